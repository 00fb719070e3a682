// Officer: the hearing room. Send the code (with the resend countdown), see the citizen waiting,
// joined or dropped, the call with both videos and the recording indicator, the step forms in
// order (identity, inquiry, notice from the template, ruling bounded by the notice, service),
// no-show, and the finished hearing's summary with audit sequence numbers and the checkpoint.
import { t, has, fmtTime, dataLang } from '/shared/i18n.js';
import { $, h, showView, busy, showError, announce, countdown, download } from '/shared/ui.js';
import { CallView } from '/shared/callview.js';
import { nextStep, stepFields, renderStepList, liveCallBanner, CLOSED, CITIZEN_STEPS } from '/shared/steps.js';
import { renderPhotos } from '/shared/photos.js';
import { sendCode, setCodeView } from './code.js';
import { renderParticipants } from './participants.js';
import { initSelfTestView, showSelfTest, onSelfTestEvent } from './selftest.js';
import { onLink, clearLinks } from './links.js';

let ctx = null;
let hearing = null;
let booking = null;
let call = null;
let pollTimer = null;
let renderedFor = '';
// The ID-card still taken in this hearing (kept when the step form is drawn again).
let still = null;

export function initHearingRoom(c) {
  ctx = c;
  initSelfTestView(c.api);
  $('#hr-back').addEventListener('click', () => ctx.back());
  $('#send-code').addEventListener('click', (ev) => sendCode(ctx.api, ev.currentTarget));
  $('#join-call').addEventListener('click', joinCall);
  $('#leave-call').addEventListener('click', leaveCall);
  $('#no-show').addEventListener('click', noShow);
  $('#resume').addEventListener('click', resume);
  document.addEventListener('langchange', () => {
    if (hearing && document.body.dataset.currentView === 'hearing') {
      renderedFor = '';
      renderBooking();
      render();
      const st = $('#citizen-state');
      if (st.dataset.key) st.textContent = t(st.dataset.key);
    }
  });
}

const hid = () => encodeURIComponent(hearing.id);

export async function openHearingRoom(id) {
  closeHearingRoom();
  showView('hearing');
  $('#hr-id').textContent = id;
  $('#step-card').replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  await busy(null, $('#hr-err'), async () => {
    hearing = await ctx.api.get(`hearings/${encodeURIComponent(id)}`);
    try {
      booking = await ctx.api.get(`bookings/${encodeURIComponent(hearing.booking_id)}`);
    } catch {
      booking = null;
    }
    renderBooking();
    render();
  });
  showSelfTest(booking);
  pollTimer = setInterval(refresh, 4000);
}

export function closeHearingRoom() {
  clearInterval(pollTimer);
  call?.stop();
  call = null;
  clearLinks();
  hearing = null;
  renderedFor = '';
  still = null;
}

async function refresh() {
  if (!hearing) return;
  try {
    hearing = await ctx.api.get(`hearings/${hid()}`);
    render();
  } catch (e) {
    showError($('#hr-err'), e);
  }
}

function renderBooking() {
  const b = booking;
  if (!b) return $('#booking-box').replaceChildren();
  const v = (b.violations || []).map((x) => t('o.hr.violation', { no: x.record_no, f: x.fine_yuan, p: x.points })).join(t('live.sep'));
  $('#booking-box').replaceChildren(
    h('h2', {}, t('o.hr.booking')),
    h(
      'dl',
      {},
      h('dt', {}, t('o.today.slot')),
      h('dd', {}, `${fmtTime(b.slot_start)} – ${fmtTime(b.slot_end, { date: false })}`),
      h('dt', {}, t('o.today.plate')),
      h('dd', { lang: dataLang(b.plate) }, b.plate),
      v ? [h('dt', {}, t('field.violations')), h('dd', {}, v)] : null,
      b.phone_masked ? [h('dt', {}, t('o.hr.phone')), h('dd', {}, b.phone_masked)] : null,
      b.deadline ? [h('dt', {}, t('o.hr.deadline')), h('dd', {}, fmtTime(b.deadline))] : null,
    ),
  );
}

function render() {
  const st = hearing.status;
  renderPhotos(ctx.api, hearing, $('#notice-photos'));
  setCodeView(hearing, booking);
  $('#hr-status').textContent = t('status.' + st);
  $('#hr-status').dataset.status = st;
  renderStepList($('#hr-steps'), hearing, { showSeq: true });
  liveCallBanner($('#hr-steps'), hearing);
  const closed = CLOSED.has(st);
  renderParticipants(ctx.api, hearing, $('#participants-box'), closed);
  if (!call && 'citizen_joined' in hearing) setCitizenState(hearing.citizen_joined ? 'o.hr.citizenJoinedEarlier' : 'o.hr.citizenWaiting', hearing.citizen_joined);
  for (const id of ['#send-code', '#join-call', '#no-show']) $(id).hidden = closed;
  // A citizen who joined is no no-show (the server refuses it too).
  if (hearing.citizen_joined) $('#no-show').hidden = true;
  $('#resume').hidden = st !== 'interrupted';
  if (call) $('#join-call').hidden = true;
  const next = nextStep(hearing);
  const key = `${st}:${next}:${document.documentElement.lang}`;
  if (key === renderedFor) return;
  renderedFor = key;
  $('#step-err').hidden = true;
  const card = $('#step-card');
  card.dataset.step = next || st;
  if (closed) {
    if (call) leaveCall();
    card.replaceChildren(...summary());
    loadCheckpoint();
    return;
  }
  const form = FORMS[next];
  if (form) card.replaceChildren(...form());
  else if (CITIZEN_STEPS.has(next)) card.replaceChildren(h('p', { class: 'note' }, t('o.hr.waitCitizen', { s: t('step.' + next) })));
  else card.replaceChildren();
}

/** Dashboard events from the server (SSE) about this hearing. */
export function onOfficerEvent(type, ev) {
  onSelfTestEvent(type, ev);
  if (!hearing || ev?.hearing_id !== hearing.id) return;
  const state = { citizen_waiting: ['o.hr.citizenJoinedEarlier', true], citizen_joined: ['o.hr.citizenJoined', true], citizen_reconnecting: ['o.hr.citizenDropped', false], citizen_left: ['o.hr.citizenLeft', false] }[type];
  if (state && !call) setCitizenState(...state);
  refresh();
}

// ---------- code, call, no-show, resume ----------
function setCitizenState(key, ok) {
  const p = $('#citizen-state');
  p.textContent = t(key);
  p.dataset.key = key;
  p.className = ok ? 'banner banner-ok' : 'banner banner-warn';
}

async function joinCall(ev) {
  await busy(ev.currentTarget, $('#hr-err'), async () => {
    const r = await ctx.api.post(`hearings/${hid()}/join-token`);
    call = new CallView($('#call-box'), {
      me: 'officer',
      peerBanner: false, // the citizen's state has its own line above the video
      peerRole: 'citizen', // that line is about the citizen, whoever else is in the call
      peerLabelKey: 'o.hr.citizenView',
      onHearing: () => refresh(),
      onMedia: () => showNoVideoRefer(),
      onPeer: (s) =>
        setCitizenState({ joined: 'o.hr.citizenJoined', reconnecting: 'o.hr.citizenDropped', left: 'o.hr.citizenLeft' }[s] || 'o.hr.citizenWaiting', s === 'joined'),
      onState: (s) => ($('#rec').hidden = s !== 'connected'),
      // A closed hearing ends the call: the summary says how, it is no error.
      onError: (e) => e?.code && e.code !== 'hearing_closed' && showError($('#hr-err'), e),
    });
    const s = await call.start({ hearingId: hearing.id, joinToken: r.join_token, wsUrl: r.ws_url, iceServers: r.ice_servers, audioOnly: r.audio_only });
    s.addEventListener('link', (e) => onLink(e.detail));
    s.addEventListener('joined', (e) => setCitizenState(e.detail.peer_present ? 'o.hr.citizenJoined' : 'o.hr.citizenWaiting', !!e.detail.peer_present));
    $('#join-call').hidden = true;
    $('#leave-call').hidden = false;
  });
}

function leaveCall() {
  call?.stop();
  call = null;
  clearLinks();
  $('#call-box').replaceChildren();
  $('#rec').hidden = true;
  $('#leave-call').hidden = true;
  $('#join-call').hidden = CLOSED.has(hearing?.status);
}

async function resume(ev) {
  await busy(ev.currentTarget, $('#hr-err'), async () => {
    hearing = await ctx.api.post(`hearings/${hid()}/resume`);
    render();
  });
}

async function noShow(ev) {
  if (!confirm(t('o.hr.noShowConfirm'))) return;
  await busy(ev.currentTarget, $('#hr-err'), async () => {
    hearing = await ctx.api.post(`hearings/${hid()}/no-show`);
    render();
  });
}

// ---------- step forms ----------
async function sendStep(button, body) {
  await busy(button, $('#step-err'), async () => {
    hearing = await ctx.api.post(`hearings/${hid()}/steps`, body);
    announce(t('step.' + body.step) + ' ✓');
    render();
    $('#step-card').focus();
  });
}

const field = (id, labelKey, input) => [h('label', { for: id }, t(labelKey)), input];
const submit = (key, id, onclick) => h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', id, onclick }, t(key)));
const noticeKey = () => `rh.notice.${hearing.id}`;

function noticeFields() {
  const f = stepFields(hearing, 'notice');
  if (f.proposed_fine_yuan != null) return f;
  try {
    return JSON.parse(sessionStorage.getItem(noticeKey()) || '{}');
  } catch {
    return {};
  }
}

function qaRow(n, q = '', a = '') {
  return h(
    'fieldset',
    { class: 'qa' },
    h('legend', {}, `${t('o.inq.q')} ${n}`),
    ...field(`qa-q${n}`, 'o.inq.q', h('input', { id: `qa-q${n}`, type: 'text', class: 'qa-q', value: q, maxlength: 500 })),
    ...field(`qa-a${n}`, 'o.inq.a', h('textarea', { id: `qa-a${n}`, class: 'qa-a', maxlength: 2000 }, a)),
  );
}

const FORMS = {
  identity() {
    const partyBox = h('div', { id: 'party-box', class: 'note' });
    loadParty(partyBox);
    const preview = h('img', { id: 'still-preview', alt: t('o.id.stillAlt'), hidden: true, style: 'max-width:100%' });
    const stillInfo = h('p', { id: 'still-info', class: 'small mono' });
    const showStill = () => {
      if (!still || still.hearing !== hearing.id) return;
      stillInfo.dataset.id = still.id;
      stillInfo.textContent = t('o.id.still', { sha: still.sha256 });
      preview.src = still.url;
      preview.hidden = false;
    };
    showStill();
    const capture = h('button', { type: 'button', class: 'btn btn-ghost', id: 'id-capture', onclick: (e) => captureStill(e.currentTarget, (v, blob) => {
      if (still?.url) URL.revokeObjectURL(still.url);
      still = { hearing: hearing.id, id: v.id, sha256: v.sha256, url: URL.createObjectURL(blob) };
      showStill();
    }) }, t('o.id.capture'));
    const num = h('input', { type: 'checkbox', id: 'id-number-matches' });
    const face = h('input', { type: 'checkbox', id: 'face-matches' });
    const remarks = h('textarea', { id: 'id-remarks', maxlength: 4000 });
    // No video from the citizen (no camera, refused, audio-only): the card cannot be checked,
    // so the case goes to the window without a still; the server checks the call's record.
    const noVideo = h(
      'div',
      { id: 'id-novideo', class: 'banner banner-warn', hidden: true, role: 'status' },
      h('p', {}, t('o.id.noVideoRefer')),
      h('button', { type: 'button', class: 'btn btn-danger', id: 'id-refer-novideo', onclick: (e) => {
        if (!remarks.value.trim()) {
          showError($('#step-err'), t('o.id.noVideoRemarks'));
          return remarks.focus();
        }
        sendStep(e.currentTarget, { step: 'identity', id_number_matches: false, face_matches: false, no_still: 'citizen_video_off', remarks: remarks.value.trim() });
      } }, t('o.id.referNoVideo')),
    );
    queueMicrotask(showNoVideoRefer);
    return [
      h('h2', {}, t('o.id.h')),
      h('p', { class: 'small' }, t('o.id.intro')),
      partyBox,
      noVideo,
      h('div', { class: 'actions' }, capture),
      preview,
      stillInfo,
      h('div', { class: 'check' }, num, h('label', { for: 'id-number-matches' }, t('o.id.numberMatches'))),
      h('div', { class: 'check' }, face, h('label', { for: 'face-matches' }, t('o.id.faceMatches'))),
      ...field('id-remarks', 'o.id.remarks', remarks),
      submit('o.id.submit', 'id-submit', (e) => {
        const stillId = still?.hearing === hearing.id ? still.id : null;
        if (!stillId) {
          showError($('#step-err'), t('o.id.needStill'));
          return capture.focus();
        }
        const body = { step: 'identity', id_number_matches: num.checked, face_matches: face.checked, still_id: stillId };
        if (remarks.value.trim()) body.remarks = remarks.value.trim();
        sendStep(e.currentTarget, body);
      }),
    ];
  },
  inquiry() {
    const list = h('div', { id: 'qa-list' }, qaRow(1, t('o.inq.q1')), qaRow(2, t('o.inq.q2')));
    // After the citizen asked for a correction: the request, and the last version to edit.
    const fixBox = h('div', { id: 'inq-correction', class: 'note', hidden: true });
    ctx.api
      .get(`hearings/${hid()}/transcript`)
      .then((v) => {
        const last = (v.corrections || []).filter((c) => c.version === v.version).pop();
        if (!last || !Array.isArray(v.transcript)) return;
        fixBox.hidden = false;
        fixBox.replaceChildren(h('b', {}, t('o.inq.fixAsked', { v: v.version })), h('p', { id: 'inq-correction-text' }, last.correction));
        list.replaceChildren(...v.transcript.map((qa, i) => qaRow(i + 1, qa.q, qa.a)));
      })
      .catch(() => {});
    return [
      h('h2', {}, t('o.inq.h')),
      fixBox,
      list,
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => list.append(qaRow(list.children.length + 1)) }, t('o.inq.add')),
      submit('o.inq.submit', 'inq-submit', (e) => {
        const transcript = [...list.querySelectorAll('.qa')]
          .map((fs) => ({ q: fs.querySelector('.qa-q').value.trim(), a: fs.querySelector('.qa-a').value.trim() }))
          .filter((x) => x.q || x.a);
        sendStep(e.currentTarget, { step: 'inquiry', transcript });
      }),
    ];
  },
  notice() {
    const b = booking || {};
    const records = (b.violations || []).map((v) => v.record_no).join('、') || '—';
    const fine = (b.violations || []).reduce((s, v) => s + (v.fine_yuan || 0), 0);
    const pts = (b.violations || []).reduce((s, v) => s + (v.points || 0), 0);
    const facts = h('textarea', { id: 'not-facts', maxlength: 4000 }, t('o.not.template', { plate: b.plate || '—', records }));
    const basis = h('textarea', { id: 'not-basis', maxlength: 4000 }, t('o.not.basisTemplate'));
    const fineIn = h('input', { id: 'not-fine', type: 'number', min: 0, max: 200, value: fine || 100 });
    const ptsIn = h('input', { id: 'not-points', type: 'number', min: 0, max: 12, value: pts || 0 });
    // Per record: time, place and behaviour, which the decision document states.
    const recs = (b.violations || []).map((v, i) => ({
      record_no: v.record_no,
      time: h('input', { id: `not-rec-${i}-time`, maxlength: 200, value: v.time || '' }),
      place: h('input', { id: `not-rec-${i}-place`, maxlength: 200, value: v.place || '' }),
      behaviour: h('input', { id: `not-rec-${i}-behaviour`, maxlength: 200, value: v.behaviour || '' }),
    }));
    const recFields = recs.map((r, i) => h('fieldset', { class: 'record' },
      h('legend', {}, t('o.not.record', { no: r.record_no })),
      ...field(`not-rec-${i}-time`, 'o.not.recTime', r.time),
      ...field(`not-rec-${i}-place`, 'o.not.recPlace', r.place),
      ...field(`not-rec-${i}-behaviour`, 'o.not.recBehaviour', r.behaviour)));
    return [
      h('h2', {}, t('o.not.h')),
      ...field('not-facts', 'o.not.facts', facts),
      ...field('not-basis', 'o.not.basis', basis),
      h('div', { class: 'row' }, h('div', {}, ...field('not-fine', 'o.not.fine', fineIn)), h('div', {}, ...field('not-points', 'o.not.points', ptsIn))),
      ...recFields,
      submit('o.not.submit', 'not-submit', (e) => {
        const records = recs.map((r) => ({ record_no: r.record_no, time: r.time.value.trim(), place: r.place.value.trim(), behaviour: r.behaviour.value.trim() }));
        const body = { step: 'notice', facts: facts.value.trim(), legal_basis: basis.value.trim(), proposed_fine_yuan: Number(fineIn.value), proposed_points: Number(ptsIn.value), records };
        sessionStorage.setItem(noticeKey(), JSON.stringify(body));
        sendStep(e.currentTarget, body);
      }),
    ];
  },
  ruling() {
    const n = noticeFields();
    const fineIn = h('input', { id: 'rul-fine', type: 'number', min: 0, max: n.proposed_fine_yuan ?? 200, value: n.proposed_fine_yuan ?? '' });
    const ptsIn = h('input', { id: 'rul-points', type: 'number', min: 0, max: n.proposed_points ?? 12, value: n.proposed_points ?? '' });
    const basis = h('textarea', { id: 'rul-basis', maxlength: 4000 }, n.legal_basis || t('o.not.basisTemplate'));
    return [
      h('h2', {}, t('o.rul.h')),
      n.proposed_fine_yuan != null ? h('p', { class: 'note small' }, t('o.rul.bound', { f: n.proposed_fine_yuan, p: n.proposed_points ?? 0 })) : null,
      h('div', { class: 'row' }, h('div', {}, ...field('rul-fine', 'o.rul.fine', fineIn)), h('div', {}, ...field('rul-points', 'o.rul.points', ptsIn))),
      ...field('rul-basis', 'o.rul.basis', basis),
      submit('o.rul.submit', 'rul-submit', (e) => {
        const f = Number(fineIn.value);
        const p = Number(ptsIn.value);
        if ((n.proposed_fine_yuan != null && f > n.proposed_fine_yuan) || (n.proposed_points != null && p > n.proposed_points)) {
          showError($('#step-err'), t('o.rul.tooHeavy'));
          return fineIn.focus();
        }
        sendStep(e.currentTarget, { step: 'ruling', fine_yuan: f, points: p, legal_basis: basis.value.trim() });
      }),
    ];
  },
  service() {
    const c = stepFields(hearing, 'confirmation');
    return [
      h('h2', {}, t('o.srv.h')),
      h('p', { class: 'small' }, t(c.accept === false ? 'o.srv.refused' : 'o.srv.intro')),
      submit('o.srv.submit', 'srv-submit', (e) => sendStep(e.currentTarget, { step: 'service' })),
    ];
  },
};

// ---------- identity: the named party and the still of the card ----------
/** The "no video: refer to the window" block shows while the citizen sends no video. */
function showNoVideoRefer() {
  const box = document.getElementById('id-novideo');
  if (box) box.hidden = !call?.peerMedia?.has('citizen');
}

async function loadParty(box) {
  try {
    const p = await ctx.api.get(`hearings/${hid()}/party`);
    box.replaceChildren(h('p', { id: 'party' }, t('o.id.party', { name: p.name, id: p.id_number })));
  } catch (e) {
    if (e.code !== 'identity_missing') return showError($('#step-err'), e);
    box.replaceChildren(
      h('p', {}, t('o.id.noParty')),
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'party-reload', onclick: () => loadParty(box) }, t('o.id.reload')),
    );
  }
}

/** Draws the citizen's video into a canvas, uploads it as a JPEG (at most 1280 px wide). */
async function captureStill(button, done) {
  await busy(button, $('#step-err'), async () => {
    const video = call?.peerVideo;
    if (!video || !video.videoWidth) throw new Error(t('o.id.noVideo'));
    const scale = Math.min(1, 1280 / video.videoWidth);
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
    if (!blob) throw new Error(t('o.id.noVideo'));
    const v = await ctx.api.request('POST', `hearings/${hid()}/evidence?kind=id_still`, blob, { contentType: 'image/jpeg' });
    done(v, blob);
  });
}

// ---------- summary ----------
function summary() {
  const rows = (hearing.steps || []).map((s) =>
    h('tr', {}, h('td', {}, t('step.' + s.step)), h('td', {}, fmtTime(s.at)), h('td', { class: 'mono' }, s.audit_seq ?? '—')),
  );
  const hasDoc = (hearing.steps || []).some((s) => s.step === 'service');
  return [
    h('h2', {}, t('o.sum.h')),
    hearing.status === 'completed' ? h('p', { class: 'banner banner-ok', id: 'summary-done' }, t(hasDoc ? 'o.sum.doneServed' : 'o.sum.done')) : null,
    h('p', { id: 'summary-status' }, h('span', { class: 'pill', 'data-status': hearing.status }, t('o.sum.status', { s: t('status.' + hearing.status) })), hearing.outcome ? [' ', h('span', { class: 'muted' }, has('o.why.' + hearing.outcome) ? t('o.why.' + hearing.outcome) : hearing.outcome)] : null),
    hearing.decision ? h('p', { class: 'small' }, `${t('o.sum.decisionNo')}: `, h('span', { class: 'mono' }, hearing.decision.decision_no), h('br'), h('span', { class: 'mono muted' }, `SHA-256 ${hearing.decision.sha256}`)) : null,
    writeBack(hearing.decision),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('o.sum.step')), h('th', {}, t('o.sum.at')), h('th', {}, t('o.sum.seq')))), h('tbody', {}, ...rows)),
    h('details', { class: 'fold' }, h('summary', {}, t('o.sum.checkpoint')), h('pre', { id: 'checkpoint', class: 'mono small', style: 'white-space:pre-wrap' }, '…')),
    hasDoc
      ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: (e) => saveDecision(e.currentTarget) }, t('o.sum.decision')))
      : null,
  ];
}

/** Whether the decision reached the traffic management system (issue 16), or that it was made on typed facts. */
function writeBack(d) {
  if (!d) return null;
  if (!d.write_back) return d.facts_source === 'citizen' ? h('p', { class: 'small muted', id: 'write-back', 'data-status': 'manual' }, t('o.wb.manual')) : null;
  const wb = d.write_back;
  const kind = { accepted: 'banner-ok', rejected: 'banner-warn' }[wb.status] || '';
  const text = wb.status === 'rejected' ? t('o.wb.rejected', { r: wb.reason || '—' }) : wb.status === 'accepted' ? t('o.wb.accepted') : t('o.wb.pending', { n: wb.attempts });
  return h('p', { class: `small ${kind ? 'banner ' + kind : 'muted'}`, id: 'write-back', 'data-status': wb.status }, text);
}

async function loadCheckpoint() {
  try {
    const cp = await ctx.api.get('audit/checkpoint', { accept: 'text/plain' });
    $('#checkpoint').textContent = typeof cp === 'string' ? cp : JSON.stringify(cp);
  } catch (e) {
    $('#checkpoint').textContent = e.message;
  }
}

async function saveDecision(button) {
  await busy(button, $('#step-err'), async () => {
    const html = await ctx.api.get(`hearings/${hid()}/decision`, { accept: 'text/html' });
    download(`decision-${hearing.id}.html`, String(html), 'text/html');
  });
}
