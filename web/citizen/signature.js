// The citizen's handwritten signature: a canvas that takes pen, touch and mouse strokes
// (pointer events), turned into a PNG and uploaded as `signature` evidence of the hearing
// (POST /hearings/{id}/evidence?kind=signature); the step then names its id. Strings: ./strings.js.
import { t } from '/shared/i18n.js';
import { h } from '/shared/ui.js';

/** A signature pad; `el` is its element, `upload(api, hearingId)` → the evidence `{id, sha256}`. */
export function signaturePad(id) {
  const canvas = h('canvas', {
    id,
    width: 800,
    height: 200,
    role: 'img',
    tabindex: '0',
    'aria-label': t('c.sig.label'),
    class: 'sig-canvas',
  });
  const g = canvas.getContext('2d');
  g.lineWidth = 4;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  g.strokeStyle = '#000';
  let strokes = 0;
  let last = null;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    canvas.setPointerCapture?.(e.pointerId);
    last = at(e);
    g.beginPath();
    g.arc(last[0], last[1], g.lineWidth / 2, 0, Math.PI * 2);
    g.fill();
    strokes++;
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    e.preventDefault();
    const p = at(e);
    g.beginPath();
    g.moveTo(last[0], last[1]);
    g.lineTo(p[0], p[1]);
    g.stroke();
    last = p;
  });
  const end = () => (last = null);
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('pointerleave', end);
  const info = h('p', { class: 'small mono', id: `${id}-info` });
  const clear = h('button', { type: 'button', class: 'btn btn-ghost', id: `${id}-clear`, onclick: () => {
    g.clearRect(0, 0, canvas.width, canvas.height);
    strokes = 0;
    info.textContent = '';
  } }, t('c.sig.clear'));
  const el = h('div', { class: 'sig' }, h('div', { class: 'sig-head' }, h('p', { class: 'small', id: `${id}-label` }, t('c.sig.label')), clear), canvas, info);
  return {
    el,
    canvas,
    isEmpty: () => strokes === 0,
    async upload(api, hearingId) {
      const blob = await new Promise((res) => canvas.toBlob(res, 'image/png'));
      const v = await api.request('POST', `hearings/${encodeURIComponent(hearingId)}/evidence?kind=signature`, blob, { contentType: 'image/png' });
      info.textContent = t('c.sig.done', { sha: v.sha256 });
      info.dataset.id = v.id;
      return v;
    },
  };
}
