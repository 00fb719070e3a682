// The citizen's waiting room (issue 21): what happens next (the officer opens the hearing and
// sends a code to the booked phone, shown masked), then that the hearing is open and the code is
// on its way, with the code's input focused; joining with the code. The hearing is found by the
// booking (or comes in the address): the SMS carries only the code, so nothing else is asked.
import { t, fmtTime } from '/shared/i18n.js';
import { $, showView, busy, showError } from '/shared/ui.js';
import { CLOSED } from '/shared/steps.js';
import { startCall, SESSION_KEY } from './hearing.js';

let ctx = null; // {api, state}
let waitTimer = null;
let waitRefresh = null; // the waiting room's words, again after the zh/en switch

export function initWaiting(c) {
  ctx = c;
  $('#join-form').addEventListener('submit', onJoin);
  document.addEventListener('langchange', () => {
    if (document.body.dataset.currentView === 'wait') waitRefresh?.();
  });
}

/** Shows the waiting room of `booking` (null: the hearing in the address, from a ticket). */
export function enterWaitingRoom(booking) {
  showView('wait');
  const fromUrl = new URLSearchParams(location.search).get('hearing');
  const known = booking?.hearing_id || fromUrl || (booking ? '' : $('#join-hearing').value);
  $('#join-hearing').value = known || '';
  let phone = booking?.phone_masked || ctx.state.me?.phone_masked || '';
  let status = booking?.status || null;
  let slot = booking?.slot_start || null;
  let sentAt = null;
  let announced = false;
  const draw = () => {
    const open = !!$('#join-hearing').value && (!status || ['booked', 'in_hearing'].includes(status));
    const next = $('#wait-next');
    const who = phone ? { p: phone } : null;
    next.dataset.state = open ? (sentAt ? 'sent' : 'opened') : status && !['booked', 'in_hearing'].includes(status) ? 'closed' : 'waiting';
    next.className = open ? 'banner banner-ok' : 'note';
    next.textContent = open
      ? sentAt
        ? t(who ? 'c.wait.sent' : 'c.wait.sentNoPhone', { ...(who || {}), at: fmtTime(sentAt, { date: false }) })
        : t(who ? 'c.wait.opened' : 'c.wait.openedNoPhone', who || {})
      : next.dataset.state === 'closed'
        ? t('c.wait.over')
        : t(who ? 'c.wait.next' : 'c.wait.nextNoPhone', { ...(who || {}), time: slot ? fmtTime(slot) : '' });
    $('#join-code').disabled = next.dataset.state === 'closed';
    $('#join-submit').disabled = next.dataset.state === 'closed';
    const st = $('#wait-status');
    st.textContent = status ? `${t('c.wait.status', { s: t('status.' + status) })}${slot ? ` · ${fmtTime(slot)}` : ''}` : '';
    if (status) st.dataset.status = status;
    if (open && !announced) {
      // The code is on its way: the input is where the citizen types it, at once.
      announced = true;
      $('#join-code').focus();
    }
  };
  const refresh = async () => {
    if (!['wait', 'test'].includes(document.body.dataset.currentView)) return clearInterval(waitTimer);
    try {
      if (!phone && !booking) phone = (await ctx.api.get('auth/me'))?.phone_masked || '';
      if (booking) {
        const b = await ctx.api.get(`bookings/${encodeURIComponent(booking.id)}`);
        status = b.status;
        slot = b.slot_start;
        phone = b.phone_masked || phone;
        if (!$('#join-hearing').value && ['booked', 'in_hearing'].includes(b.status)) {
          const id = b.hearing_id || (await findHearing(b.id));
          if (id) $('#join-hearing').value = id;
        }
      }
      // Opened: has the code gone out yet (the hearing says when it last did)?
      const hid = $('#join-hearing').value;
      if (hid && !sentAt && (!status || ['booked', 'in_hearing'].includes(status))) {
        sentAt = (await ctx.api.get(`hearings/${encodeURIComponent(hid)}`))?.code_sent_at || null;
      }
    } catch {
      /* keep the last status */
    }
    if (document.body.dataset.currentView === 'wait') draw();
  };
  waitRefresh = draw;
  draw();
  refresh();
  clearInterval(waitTimer);
  waitTimer = setInterval(refresh, 3000);
}

/** The booking's live hearing: `GET /hearings?booking_id=` (newest first), if the server has it. */
async function findHearing(bookingId) {
  try {
    const list = await ctx.api.get(`hearings?booking_id=${encodeURIComponent(bookingId)}`);
    const items = Array.isArray(list) ? list : list?.items || [];
    const live = items.find((x) => !CLOSED.has(x.status)) || items[0];
    return live?.id || null;
  } catch {
    return null;
  }
}

async function onJoin(ev) {
  ev.preventDefault();
  await busy($('#join-submit'), $('#join-err'), async () => {
    const id = $('#join-hearing').value.trim();
    if (!id) {
      // The officer has not opened the hearing yet: there is nothing to join (and no code).
      showError($('#join-err'), t('c.wait.notYet'));
      return;
    }
    const r = await ctx.api.post('hearings/join', { hearing_id: id, code: $('#join-code').value.trim() });
    const session = { hearingId: id, joinToken: r.join_token, wsUrl: r.ws_url, iceServers: r.ice_servers, audioOnly: r.audio_only, at: Date.now() };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    clearInterval(waitTimer);
    await startCall(session);
  });
}
