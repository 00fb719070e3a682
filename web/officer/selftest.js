// Officer: the citizen's self-test in the hearing room, beside the waiting citizen (issue 14 §3):
// the newest result of the booking (score, path, RTT, loss, kbit/s, devices, when) from
// GET /api/v1/bookings/{id}/selftest, drawn again when a `selftest` event of the booking arrives.
import { t } from '/shared/i18n.js';
import { $, h } from '/shared/ui.js';
import { selfTestFacts, adviceList } from '/shared/selftest.js';

let api = null;
let bookingId = null;
let last = null; // the newest result shown (drawn again on the zh/en switch)

export function initSelfTestView(a) {
  api = a;
  document.addEventListener('langchange', () => bookingId && draw());
}

/** Shows the self-test of `booking` (null: nothing). */
export async function showSelfTest(booking) {
  bookingId = booking?.id || null;
  last = null;
  const box = $('#selftest-box');
  box.hidden = !bookingId;
  if (!bookingId) return box.replaceChildren();
  await load();
}

async function load() {
  const id = bookingId;
  try {
    const list = await api.get(`bookings/${encodeURIComponent(id)}/selftest`);
    if (id !== bookingId) return;
    last = (Array.isArray(list) ? list : [])[0] || null;
  } catch {
    /* keep what is shown */
  }
  draw();
}

function draw() {
  const box = $('#selftest-box');
  box.dataset.score = last?.score || 'none';
  box.replaceChildren(
    h('h2', {}, t('st.h')),
    ...(last ? [selfTestFacts(last), adviceList(last.advice)] : [h('p', { class: 'muted small' }, t('st.none'))]),
  );
}

/** A dashboard event: the booking's citizen sent a new result. */
export function onSelfTestEvent(type, ev) {
  if (type === 'selftest' && bookingId && ev?.booking_id === bookingId) load();
}
