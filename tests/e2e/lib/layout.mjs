// The layout rules of the pages as a phone user meets them (issue 21), checked in the page as it
// is: nothing wider than the viewport, the current action's button on screen without scrolling,
// tap targets of at least 44 × 44 px, nothing fixed over the text being read, and (for the call)
// no page scroll: the text scrolls inside its own box.

/**
 * The broken rules on `page` now, as sentences (empty when all hold).
 * opts: `action` (selector of the button the user must press now; it must be inside the viewport
 * with the page scrolled to the top), `text` (selector of the text being read: no fixed element
 * may cover it), `noPageScroll` (the document itself must not scroll), `minTap` (44), `minFont`
 * and `minHeading` (px: every shown text at least `minFont`, an h1 at least `minHeading`; care mode).
 */
export async function layoutProblems(page, opts = {}) {
  // The screen's size as set, not window.innerWidth: a mobile browser widens its layout viewport
  // (zooming out) to fit a too-wide page, which would hide the very overflow looked for.
  const { width, height } = page.viewportSize();
  return page.evaluate(({ action, text, noPageScroll, minTap, minFont, minHeading, vw, vh }) => {
    const out = [];
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
    const shown = (el) => {
      if (!el.isConnected || el.closest('[hidden]')) return false;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'none') return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    // Visually hidden helpers (screen-reader text, the skip link until focused) are not laid out.
    const offscreenByDesign = (el) => el.closest('.sr-only, .skip') || getComputedStyle(el).clip === 'rect(0px, 0px, 0px, 0px)';
    window.scrollTo(0, 0);

    if (document.documentElement.scrollWidth > vw + 1) out.push(`the page is ${document.documentElement.scrollWidth}px wide on a ${vw}px screen`);
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (!shown(el) || offscreenByDesign(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 || r.left < -1) wide.push(`${name(el)} [${Math.round(r.left)}…${Math.round(r.right)}]`);
    }
    if (wide.length) out.push(`wider than the ${vw}px screen: ${wide.slice(0, 6).join(', ')}${wide.length > 6 ? ` (+${wide.length - 6})` : ''}`);

    if (noPageScroll && document.documentElement.scrollHeight > vh + 1) out.push(`the page scrolls: ${document.documentElement.scrollHeight}px on a ${vh}px screen`);

    if (action) {
      const el = document.querySelector(action);
      if (!el || !shown(el)) out.push(`the action ${action} is not shown`);
      else {
        const r = el.getBoundingClientRect();
        if (r.top < 0 || r.left < 0 || r.bottom > vh + 0.5 || r.right > vw + 0.5) out.push(`the action ${action} is off screen: [${Math.round(r.left)},${Math.round(r.top)} … ${Math.round(r.right)},${Math.round(r.bottom)}] on ${vw}×${vh}`);
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (hit && hit !== el && !el.contains(hit)) out.push(`the action ${action} is covered by ${name(hit)}`);
      }
    }

    if (text) {
      const box = document.querySelector(text);
      if (box && shown(box)) {
        const b = box.getBoundingClientRect();
        for (const el of document.body.querySelectorAll('*')) {
          if (!shown(el) || el.contains(box) || box.contains(el)) continue;
          const pos = getComputedStyle(el).position;
          if (pos !== 'fixed' && pos !== 'sticky') continue;
          const r = el.getBoundingClientRect();
          if (r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top) out.push(`${name(el)} (${pos}) covers the text ${text}`);
        }
      }
    }

    const small = [];
    for (const el of document.querySelectorAll('button, a[href], input, select, textarea, summary, [role=button]')) {
      if (offscreenByDesign(el)) continue;
      let target = el;
      // A checkbox or radio is tapped through its label (the slot picker hides its input).
      if ((el.type === 'checkbox' || el.type === 'radio') && el.labels?.length) target = el.labels[0];
      if (!shown(target)) continue;
      const r = target.getBoundingClientRect();
      if (r.width < minTap - 0.5 || r.height < minTap - 0.5) small.push(`${name(el)} ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    if (small.length) out.push(`tap targets under ${minTap}px: ${small.join(', ')}`);

    if (minFont) {
      const tiny = [];
      for (const el of document.body.querySelectorAll('*')) {
        if (!shown(el) || offscreenByDesign(el)) continue;
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        const px = parseFloat(getComputedStyle(el).fontSize);
        const need = el.tagName === 'H1' ? minHeading : minFont;
        if (px < need - 0.1) tiny.push(`${name(el)} ${px}px`);
      }
      if (tiny.length) out.push(`text under ${minFont}px (headings ${minHeading}px): ${tiny.slice(0, 8).join(', ')}${tiny.length > 8 ? ` (+${tiny.length - 8})` : ''}`);
    }
    return out;
  }, { action: opts.action || null, text: opts.text || null, noPageScroll: !!opts.noPageScroll, minTap: opts.minTap || 44, minFont: opts.minFont || 0, minHeading: opts.minHeading || 0, vw: width, vh: height });
}

/** The rules of care mode (关怀模式, issue 19 §3): text ≥ 18 px, h1 ≥ 30 px, tap targets ≥ 60 px. */
export const CARE = { minTap: 60, minFont: 18, minHeading: 30 };

/** The phone sizes of issue 21. */
export const PHONES = [
  { width: 390, height: 844 },
  { width: 360, height: 640 },
];
