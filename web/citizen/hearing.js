// Citizen: the call with its step prompts (joined from the waiting room, ./waiting.js)
// (transcript_ack, notice_ack, statement, confirmation, receipt; the signed ones with a
// handwritten signature, ./signature.js). On a phone the call is one screen: the step bar, a
// compact video, the text being read (it scrolls) and the action bar at the bottom, where each
// prompt's `actionBar(...)` part goes. The decision is ./decision.js.
import { t } from '/shared/i18n.js';
import { $, h, showView, busy, showError, announce } from '/shared/ui.js';
import { CallView } from '/shared/callview.js';
import { nextStep, stepFields, renderStepBar, liveCallBanner, CLOSED } from '/shared/steps.js';
import { renderPhotos } from '/shared/photos.js';
import { signaturePad } from './signature.js';
import { initDecision, showOutcome as showDecision } from './decision.js';

export const SESSION_KEY = 'rh.citizen.call';
let ctx = null; // {api, state, goHome}
let call = null; // CallView
let hearing = null;
let hearingId = null;
let pollTimer = null;

export function initHearing(c) {
  ctx = c;
  $('#call-leave').addEventListener('click', () => {
    // Leaving an open hearing interrupts it: asked first.
    if (hearing && !CLOSED.has(hearing.status) && !confirm(t('c.call.leaveConfirm'))) return;
    leaveCall(true);
  });
  initDecision(c, () => hearingId, () => {
    stopAll();
    ctx.goHome();
  });
  document.addEventListener('langchange', () => {
    if (!hearing) return;
    if (document.body.dataset.currentView === 'call') renderHearing();
    else if (document.body.dataset.currentView === 'decision') showOutcome();
  });
}

function stopAll() {
  clearInterval(pollTimer);
}

/** After a reload during a call: rejoin with the same token inside the grace period. */
export async function resumeCall() {
  let s;
  try {
    s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    s = null;
  }
  if (!s || Date.now() - s.at > 2 * 3600 * 1000) return false;
  try {
    const hr = await ctx.api.get(`hearings/${encodeURIComponent(s.hearingId)}`);
    if (CLOSED.has(hr.status)) {
      sessionStorage.removeItem(SESSION_KEY);
      hearingId = s.hearingId;
      hearing = hr;
      await showOutcome();
      return true;
    }
  } catch {
    return false;
  }
  await startCall(s);
  return true;
}

// ---------- the call ----------
/** Into the call with a join grant (from the waiting room, or kept over a reload). */
export async function startCall(session) {
  hearingId = session.hearingId;
  showView('call');
  $('#logout').hidden = true;
  call = new CallView($('#call-box'), {
    me: 'citizen',
    peerLabelKey: 'c.call.officer',
    mainFirst: 'interpreter', // a sign-language interpreter is who a deaf citizen must see best
    onHearing: () => refreshHearing(),
    // A failed connection is said once, by the call's banner (with its retry button); other
    // errors of the call go to the step's error line and leave it when the call is back.
    onError: (e) => {
      if (!e?.code || call?.session?.state === 'failed') return;
      showError($('#step-err'), e);
      $('#step-err').dataset.fromCall = '1';
    },
    onState: (st) => {
      if (st !== 'connected' || !$('#step-err').dataset.fromCall) return;
      showError($('#step-err'), null);
      delete $('#step-err').dataset.fromCall;
    },
  });
  try {
    await call.start(session);
    call.session?.addEventListener('localvideo', () => {
      const p = document.getElementById('identity-ask');
      if (p) p.textContent = identityAskText();
    });
  } catch (e) {
    showError($('#step-err'), t('c.test.fail', { e: e.name || e.message }));
  }
  await refreshHearing();
  clearInterval(pollTimer);
  pollTimer = setInterval(refreshHearing, 4000);
}

function leaveCall(goHome) {
  call?.stop();
  call = null;
  clearInterval(pollTimer);
  sessionStorage.removeItem(SESSION_KEY);
  if (goHome) ctx.goHome();
}

async function refreshHearing() {
  if (!hearingId) return;
  try {
    const prev = hearing ? JSON.stringify(hearing.steps) + hearing.status : '';
    hearing = await ctx.api.get(`hearings/${encodeURIComponent(hearingId)}`);
    if (prev !== JSON.stringify(hearing.steps) + hearing.status) renderHearing();
  } catch (e) {
    showError($('#step-err'), e);
  }
}

const showOutcome = () => showDecision(hearing);

function renderHearing() {
  renderStepBar($('#call-stepbar'), hearing);
  liveCallBanner($('#prompt'), hearing);
  if (CLOSED.has(hearing.status)) {
    leaveCall(false);
    showOutcome();
    return;
  }
  const next = nextStep(hearing);
  const box = $('#prompt');
  box.dataset.step = next || '';
  $('#action-bar').dataset.step = next || '';
  const form = PROMPTS[next];
  const parts = form ? form() : [h('p', {}, t(next === 'identity' ? 'c.call.identity' : 'c.call.waitOfficer'))];
  const isBar = (n) => n?.dataset?.bar !== undefined;
  box.replaceChildren(...parts.filter((n) => n && !isBar(n)));
  $('#action-slot').replaceChildren(...parts.filter(isBar));
  $('#call-scroll').scrollTop = 0;
  if (form) {
    box.focus({ preventScroll: true });
    announce(t('step.' + next));
  }
}

/** The part of a prompt that goes to the action bar at the bottom of the screen. */
const actionBar = (...children) => h('div', { class: 'bar-part', 'data-bar': '' }, ...children);

async function sendStep(button, body, pad) {
  await busy(button, $('#step-err'), async () => {
    if (pad) {
      // The signature is uploaded first; the step names it (and seals its SHA-256).
      if (pad.isEmpty()) {
        pad.canvas.focus();
        throw new Error(t('c.sig.empty'));
      }
      body = { ...body, signature_id: (await pad.upload(ctx.api, hearingId)).id };
    }
    hearing = await ctx.api.post(`hearings/${encodeURIComponent(hearingId)}/steps`, body);
    announce(t('c.sent'));
    renderHearing();
  });
}

/** The identity prompt: the name and ID number given, or a form for them (its button in `bar`). */
async function showIdentity(box, bar) {
  try {
    const v = await ctx.api.get('citizens/me/identity');
    box.append(h('p', { class: 'small', id: 'identity-given' }, t('c.id.given', { name: v.name, id: v.id_number_masked })));
    bar.remove();
  } catch (e) {
    if (e.status !== 404) {
      bar.remove();
      return showError($('#step-err'), e);
    }
    const name = h('input', { id: 'id-name', type: 'text', autocomplete: 'name', maxlength: 30 });
    const num = h('input', { id: 'id-number', type: 'text', autocomplete: 'off', maxlength: 18, inputmode: 'text' });
    const form = h(
      'div',
      { id: 'identity-form' },
      h('p', { class: 'small' }, t('c.id.intro')),
      h('label', { for: 'id-name' }, t('c.id.name')),
      name,
      h('label', { for: 'id-number' }, t('c.id.number')),
      num,
    );
    bar.append(h('div', { class: 'actions' }, btn('c.id.save', '', async (ev) => {
      await busy(ev.currentTarget, $('#step-err'), async () => {
        const v = await ctx.api.put('citizens/me/identity', { name: name.value.trim(), id_number: num.value.trim() });
        form.replaceWith(h('p', { class: 'small', id: 'identity-given' }, t('c.id.given', { name: v.name, id: v.id_number_masked })));
        bar.remove();
      });
    }, 'id-save')));
    bar.hidden = false;
    box.append(form);
  }
}

/** Show the ID card to the camera; without video the officer cannot check it (the window). */
function identityAskText() {
  const off = call?.session?.videoOff;
  if (!off) return t('c.call.identity');
  return t(off === 'no_camera' || off === 'camera_denied' ? 'c.call.identityNoCamera' : 'c.call.identityNoVideo');
}

const btn = (key, cls, onclick, id) => h('button', { type: 'button', class: `btn ${cls || ''}`, onclick, id }, t(key));

const PROMPTS = {
  /** The officer checks the ID card; the citizen first gives the name and number if not yet. */
  identity() {
    const box = h('div', { id: 'identity-box' }, h('p', { id: 'identity-ask' }, identityAskText()));
    const bar = actionBar();
    bar.hidden = true;
    showIdentity(box, bar);
    return [box, bar];
  },
  /** The citizen reads the inquiry transcript, then signs it or asks for a correction. */
  transcript_ack() {
    const list = h('dl', { class: 'doc', id: 'tr-list' });
    const version = h('p', { class: 'small', id: 'tr-version' });
    ctx.api
      .get(`hearings/${encodeURIComponent(hearingId)}/transcript`)
      .then((v) => {
        version.textContent = t('c.tr.version', { v: v.version });
        list.replaceChildren(...(v.transcript || []).flatMap((qa) => [h('dt', {}, `${t('c.tr.q')}：${qa.q}`), h('dd', {}, `${t('c.tr.a')}：${qa.a}`)]));
      })
      .catch((e) => showError($('#step-err'), e));
    const pad = signaturePad('tr-sig');
    const fix = h('textarea', { id: 'tr-correction', maxlength: 4000 });
    return [
      h('h2', {}, t('c.tr.h')),
      version,
      list,
      h('p', { class: 'note', id: 'tr-statement' }, t('c.tr.statement')),
      actionBar(pad.el, h('div', { class: 'actions' }, btn('c.tr.accept', 'btn-ok', (e) => sendStep(e.currentTarget, { step: 'transcript_ack', accept: true }, pad), 'tr-accept'))),
      h('label', { for: 'tr-correction' }, t('c.tr.correction')),
      fix,
      h(
        'div',
        { class: 'actions' },
        btn('c.tr.ask', 'btn-ghost', (e) => {
          if (!fix.value.trim()) {
            showError($('#step-err'), t('err.withField', { field: t('c.tr.correction'), text: t('err.http.422') }));
            return fix.focus();
          }
          sendStep(e.currentTarget, { step: 'transcript_ack', accept: false, correction: fix.value.trim() });
        }, 'tr-ask'),
      ),
    ];
  },
  notice_ack() {
    const photoBox = () => {
      const box = h('div', { id: 'notice-photos', hidden: true });
      renderPhotos(ctx.api, hearing, box);
      return box;
    };
    const f = stepFields(hearing, 'notice');
    const fine = f.proposed_fine_yuan;
    const pts = f.proposed_points;
    return [
      h('h2', {}, t('c.notice.h')),
      h('p', {}, t('c.notice.intro')),
      h(
        'dl',
        { class: 'doc' },
        f.facts ? [h('dt', {}, t('c.notice.facts')), h('dd', {}, f.facts)] : null,
        f.legal_basis ? [h('dt', {}, t('c.notice.basis')), h('dd', {}, f.legal_basis)] : null,
        fine != null ? [h('dt', {}, t('c.notice.penalty')), h('dd', {}, t('c.notice.penaltyVal', { f: fine, p: pts ?? 0 }))] : null,
        [h('dt', {}, t('c.notice.rights')), h('dd', { class: 'small' }, f.rights_text || hearing.rights_text || t('c.notice.rightsDefault'))],
      ),
      photoBox(),
      actionBar(h('div', { class: 'actions' }, btn('c.notice.ack', '', (e) => sendStep(e.currentTarget, { step: 'notice_ack' }), 'ack-notice'))),
    ];
  },
  statement() {
    const ta = h('textarea', { id: 'st-text', maxlength: 2000 });
    const need = (e) => {
      if (!ta.value.trim()) {
        showError($('#step-err'), t('err.withField', { field: t('c.st.text'), text: t('err.http.422') }));
        ta.focus();
        return false;
      }
      return e;
    };
    return [
      h('h2', {}, t('c.st.h')),
      h('p', { class: 'small' }, t('c.st.intro')),
      h('label', { for: 'st-text' }, t('c.st.text')),
      ta,
      actionBar(h(
        'div',
        { class: 'actions' },
        btn('c.st.give', '', (e) => need(e) && sendStep(e.currentTarget, { step: 'statement', text: ta.value.trim() }), 'st-give'),
        btn('c.st.waive', 'btn-ghost', (e) => sendStep(e.currentTarget, { step: 'statement', waived: true }), 'st-waive'),
        btn('c.st.dispute', 'btn-danger', (e) => need(e) && confirm(t('c.st.disputeConfirm')) && sendStep(e.currentTarget, { step: 'statement', disputed: true, text: ta.value.trim() }), 'st-dispute'),
      )),
    ];
  },
  confirmation() {
    const f = stepFields(hearing, 'ruling');
    const consent = h('input', { type: 'checkbox', id: 'conf-consent' });
    const pad = signaturePad('conf-sig');
    return [
      h('h2', {}, t('c.conf.h')),
      f.fine_yuan != null ? h('p', { class: 'note' }, t('c.conf.ruling', { f: f.fine_yuan, p: f.points ?? 0 })) : null,
      f.legal_basis ? h('p', { class: 'small' }, f.legal_basis) : null,
      hearing.e_service_consent_text ? h('p', { class: 'note small', id: 'conf-consent-text' }, hearing.e_service_consent_text) : null,
      actionBar(
        h('div', { class: 'check' }, consent, h('label', { for: 'conf-consent', 'aria-describedby': hearing.e_service_consent_text ? 'conf-consent-text' : null }, t('c.conf.consent'))),
        pad.el,
        h(
        'div',
        { class: 'actions' },
        btn('c.conf.accept', 'btn-ok', (e) => {
          if (!consent.checked) {
            showError($('#step-err'), t('c.conf.needConsent'));
            return consent.focus();
          }
          // Consent is sent explicitly (Art. 61), never left out.
          sendStep(e.currentTarget, { step: 'confirmation', accept: true, e_service_consent: consent.checked }, pad);
        }, 'conf-accept'),
        btn('c.conf.refuse', 'btn-danger', (e) => confirm(t('c.conf.refuseConfirm')) && sendStep(e.currentTarget, { step: 'confirmation', accept: false, e_service_consent: consent.checked }, pad), 'conf-refuse'),
        ),
      ),
    ];
  },
  receipt() {
    const pad = signaturePad('rc-sig');
    return [
      h('h2', {}, t('c.rc.h')),
      h('p', {}, t('c.rc.intro')),
      pad.el,
      actionBar(pad.el, h('div', { class: 'actions' }, btn('c.rc.ack', 'btn-ok', (e) => sendStep(e.currentTarget, { step: 'receipt' }, pad), 'receipt-ack'))),
    ];
  },
};
