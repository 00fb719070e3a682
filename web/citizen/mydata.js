// 我的数据: what the server keeps about the signed-in citizen and until when (PIPL, issue 15 §3),
// from GET /api/v1/citizens/me/data: per hearing, the video and the personal data — kept until a
// day, held as evidence, or deleted — and whether the name and ID number are on file.
import { $, h, showView, busy } from '/shared/ui.js';
import { t, fmtTime } from '/shared/i18n.js';

function fate(k) {
  if (k.state === 'deleted') return t('c.data.deleted', { d: fmtTime(k.deleted_at) });
  if (k.state === 'held') return t('c.data.held');
  return k.until ? t('c.data.kept', { d: fmtTime(k.until) }) : t('c.data.keptOpen');
}

function hearingCard(x) {
  const row = (label, value, state) => [h('dt', {}, label), h('dd', state ? { dataset: { state } } : {}, value)];
  return h(
    'article',
    { class: 'booking-card', dataset: { hearing: x.id } },
    h('h2', { class: 'small' }, `${t('c.data.hearing')} · ${t(`status.${x.status}`)}`),
    h(
      'dl',
      {},
      ...(x.closed_at ? row(t('c.data.closed'), fmtTime(x.closed_at)) : []),
      ...(x.decision_no ? row(t('c.data.decision'), x.decision_no) : []),
      ...row(t('c.data.recordings', { n: x.recordings }), fate(x.recordings_kept), x.recordings_kept.state),
      ...row(t('c.data.personal'), fate(x.personal_data_kept), x.personal_data_kept.state),
    ),
  );
}

let last = null;
function render() {
  if (!last) return;
  $('#data-rules').textContent = t('c.data.rules', { r: last.recordings_days, p: last.personal_data_days });
  $('#data-identity').textContent = t(last.identity_on_file ? 'c.data.identityOn' : 'c.data.identityOff');
  $('#data-list').replaceChildren(
    ...(last.hearings.length ? last.hearings.map(hearingCard) : [h('p', { class: 'muted' }, t('c.data.none'))]),
  );
}

/** Wires the 我的数据 button; `relabel()` redraws in the current language. */
export function initMyData({ api }) {
  $('#go-data').addEventListener('click', async () => {
    showView('data');
    await busy(null, $('#data-err'), async () => {
      last = await api.get('citizens/me/data');
      render();
    });
  });
  return { relabel: render };
}
