// Officer: each party's link as the server measures it (issue 14 §2) — `link` frames on the
// call's socket every few seconds: round trip, loss (the worse direction), kbit/s received from
// and sent to the party, audio-only, and the level after hysteresis (good / fair / poor). A
// party whose link is poor raises the "网络较差" alert (role=alert, announced once per change,
// not on every frame); a party silent for 12 s (dropped, left) leaves the table. The citizen's
// page never gets these frames. `linkPill` is also the list's pill (app.js, `link` events).
import { t } from '/shared/i18n.js';
import { $, h } from '/shared/ui.js';

const links = new Map();
const ORDER = ['citizen', 'officer', 'interpreter', 'agent', 'supervisor'];
// A party without a frame for this long has no connected media (dropped, left): its row goes.
const STALE_MS = 12_000;
let sweep = null;

/** A `link` frame from the call. */
export function onLink(m) {
  if (!m?.role || !['good', 'fair', 'poor'].includes(m.level)) return;
  links.set(m.role, { ...m, seenAt: Date.now() });
  sweep ??= setInterval(renderLinks, 4000);
  renderLinks();
}

/** The call ended (or the page left the hearing): no figures shown any more. */
export function clearLinks() {
  links.clear();
  clearInterval(sweep);
  sweep = null;
  renderLinks();
}

/** The level as a pill (the list's and the panel's). */
export function linkPill(level) {
  return h('span', { class: 'pill link-level', 'data-level': level }, t('link.level.' + level));
}

const num = (v, unit) => (v == null ? '—' : `${v} ${unit}`);

export function renderLinks() {
  const box = $('#link-box');
  const alert = $('#link-alert');
  if (!box || !alert) return;
  for (const [role, l] of links) if (Date.now() - l.seenAt > STALE_MS) links.delete(role);
  const rows = [...links.values()].sort((a, b) => ORDER.indexOf(a.role) - ORDER.indexOf(b.role));
  box.hidden = !rows.length;
  const poor = rows.filter((l) => l.level === 'poor').map((l) => t('seat.' + l.role));
  const text = poor.length ? t('link.poorAlert', { who: poor.join(t('live.sep')) }) : '';
  // the alert is kept and only its text changes, so it is announced once per change
  if (alert.textContent !== text) alert.textContent = text;
  alert.hidden = !text;
  if (!rows.length) return box.replaceChildren();
  const head = ['link.who', 'link.rtt', 'link.loss', 'link.kbps', 'link.level'].map((k) => h('th', { scope: 'col' }, t(k)));
  box.replaceChildren(
    h('h2', {}, t('link.h')),
    h(
      'table',
      { class: 'link-table' },
      h('thead', {}, h('tr', {}, ...head)),
      h(
        'tbody',
        {},
        ...rows.map((l) =>
          h(
            'tr',
            { 'data-role': l.role, 'data-level': l.level },
            h('th', { scope: 'row' }, t('seat.' + l.role), l.audio_only ? h('span', { class: 'small muted' }, ' · ', t('link.audioOnly')) : null),
            h('td', { class: 'link-rtt' }, num(l.rtt_ms, 'ms')),
            h('td', { class: 'link-loss' }, num(l.loss_pct, '%')),
            h('td', { class: 'link-kbps' }, `↑${l.kbps_in} ↓${l.kbps_out} kbit/s`),
            h('td', {}, linkPill(l.level)),
          ),
        ),
      ),
    ),
    h('p', { class: 'small muted' }, t('link.note')),
  );
}

document.addEventListener('langchange', renderLinks);
