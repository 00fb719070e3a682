// axe-core (npm, dev) run inside a page: injected through the DevTools protocol (page.evaluate,
// so the pages' Content-Security-Policy stays as served), WCAG 2.x A/AA rules and best practices.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The violations on the page as it is now: [{id, impact, help, nodes: [selector…]}]. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const r = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }),
  );
  return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

export const SERIOUS = new Set(['serious', 'critical']);

/** One line per violation, for the test's message. */
export function describeViolations(vs) {
  return vs.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 5).join(', ')}${v.nodes.length > 5 ? ' …' : ''}`).join('\n');
}

/**
 * WCAG 3.1.2 (language of parts), which axe does not check: text with Chinese characters whose
 * nearest `lang` is not Chinese (e.g. a brigade's name or the server's rights text while the page
 * is in English). Returns a CSS-ish path and the text of each, at most 20.
 */
export function langOfParts(page) {
  return page.evaluate(() => {
    const out = [];
    const han = /\p{Script=Han}/u;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n && out.length < 20; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!han.test(n.data) || !el || el.closest('[hidden], script, style, noscript, [aria-hidden=true]') || !el.getClientRects().length) continue;
      const lang = el.closest('[lang]')?.getAttribute('lang') || '';
      if (lang.startsWith('zh')) continue;
      const path = [];
      for (let e = el; e && e !== document.body && path.length < 4; e = e.parentElement) path.unshift(e.id ? `#${e.id}` : e.tagName.toLowerCase());
      out.push(`${path.join(' > ')}: ${n.data.trim().slice(0, 40)}`);
    }
    return out;
  });
}
