// A participant's page (issue 19 §2): an interpreter, agent or supervisor opens the citizen's H5
// page with `/?hearing=…&participant=…`, enters the SMS code the officer sent, waits until the
// officer admits them, and joins the call — the call only, without the citizen's step actions.
// Its own session (scope `participant`) and its own words; the citizen's views stay untouched.
import { createApi } from '/shared/api.js';
import { CallView } from '/shared/callview.js';
import { $, h, showView, busy, showError } from '/shared/ui.js';

const WORDS = {
  zh: { h: '参与远程处理', code: '短信验证码', join: '进入', wait: '已进入等候，请等待民警准许。', admitted: '民警已准许，正在进入视频…', inCall: '您已在视频中。', left: '您已离开。', closed: '本次办理已结束。', leave: '离开' },
  en: { h: 'Join the hearing', code: 'SMS code', join: 'Join', wait: 'You are waiting: the officer will admit you.', admitted: 'Admitted: joining the call…', inCall: 'You are in the call.', left: 'You have left.', closed: 'The hearing has ended.', leave: 'Leave' },
};
const w = (k) => (document.documentElement.lang.startsWith('en') ? WORDS.en : WORDS.zh)[k];
const CLOSED = new Set(['completed', 'referred', 'no_show']);

/** True when the address names a participant: the page is theirs. */
export async function participantPage() {
  const params = new URLSearchParams(location.search);
  const hid = params.get('hearing');
  const pid = params.get('participant');
  if (!hid || !pid) return false;
  const api = createApi('participant');
  const status = h('p', { id: 'pt-status', 'aria-live': 'polite' });
  const err = h('div', { class: 'alert', id: 'pt-err', role: 'alert', hidden: true });
  const code = h('input', { id: 'pt-code', inputmode: 'numeric', maxlength: 6, autocomplete: 'one-time-code' });
  const formEl = h('form', { id: 'pt-join', novalidate: true }, h('label', { for: 'pt-code' }, w('code')), code, h('button', { type: 'submit', class: 'btn btn-block' }, w('join')));
  const callBox = h('div', { id: 'pt-call' });
  const leave = h('button', { type: 'button', class: 'btn btn-ghost', id: 'pt-leave', hidden: true }, w('leave'));
  const section = h('section', { 'data-view': 'participant', class: 'card', hidden: true }, h('h1', {}, w('h')), status, err, formEl, callBox, leave);
  $('#main').append(section);
  showView('participant');
  let call = null;
  let timer = null;
  const poll = async () => {
    const me = await api.get('participants/me');
    if (CLOSED.has(me.hearing_status)) {
      clearInterval(timer);
      call?.stop();
      status.textContent = w('closed');
      return;
    }
    const st = me.participant.status;
    if (st === 'left') {
      clearInterval(timer);
      status.textContent = w('left');
    } else if (st === 'waiting') status.textContent = w('wait');
    else if (st === 'admitted' && !call) {
      status.textContent = w('admitted');
      const g = await api.post('participants/me/join-token');
      call = new CallView(callBox, { me: me.participant.role, onError: (e) => e?.code && e.code !== 'hearing_closed' && showError(err, e) });
      await call.start({ hearingId: hid, joinToken: g.join_token, wsUrl: g.ws_url, iceServers: g.ice_servers, audioOnly: g.audio_only });
      status.textContent = w('inCall');
      leave.hidden = false;
    }
  };
  const watch = () => {
    formEl.hidden = true;
    poll().catch((e) => showError(err, e));
    timer = setInterval(() => poll().catch((e) => showError(err, e)), 3000);
  };
  formEl.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ev.submitter, err, async () => {
      const r = await api.post(`hearings/${encodeURIComponent(hid)}/participants/${encodeURIComponent(pid)}/join`, { code: code.value.trim() });
      api.setToken(r.token);
      watch();
    });
  });
  leave.addEventListener('click', () =>
    busy(leave, err, async () => {
      call?.stop();
      call = null;
      await api.post('participants/me/leave');
      leave.hidden = true;
      await poll();
    }),
  );
  if (api.token) watch();
  return true;
}
