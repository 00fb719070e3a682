// The notice's evidence photos (records bookings): the list sealed in the hearing view's
// `notice.photos`, each fetched with the page's session and shown with its record number.
import { t, addStrings } from './i18n.js';
import { h } from './ui.js';
import { stepFields } from './steps.js';

addStrings({
  'photos.h': ['违法证据照片', 'Evidence photos'],
  'photos.caption': ['违法记录 {no} · 第 {i} 张', 'Record {no} · photo {i}'],
  'photos.failed': ['照片无法显示', 'The photo cannot be shown'],
});

/** The photos the notice sealed, `[{record_no, index, content_type, sha256}]`. */
export function noticePhotos(hearing) {
  const list = hearing?.notice?.photos || stepFields(hearing, 'notice').photos;
  return Array.isArray(list) ? list : [];
}

const shown = new Map(); // `${hearing}/${record}/${index}` → object URL

/** Fills `box` with the notice's photos (hidden when there are none). */
export function renderPhotos(api, hearing, box) {
  const list = noticePhotos(hearing);
  box.hidden = list.length === 0;
  if (!list.length) return box.replaceChildren();
  const key = list.map((p) => `${p.record_no}/${p.index}`).join(',');
  if (box.dataset.for === `${hearing.id}:${key}`) return;
  box.dataset.for = `${hearing.id}:${key}`;
  const figs = list.map((p) => {
    const img = h('img', { class: 'evidence-photo', alt: t('photos.caption', { no: p.record_no, i: p.index + 1 }), style: 'max-width:100%;min-width:96px;image-rendering:auto' });
    const fig = h('figure', { class: 'evidence', dataset: { recordNo: p.record_no, index: String(p.index) } }, img, h('figcaption', { class: 'small' }, t('photos.caption', { no: p.record_no, i: p.index + 1 })));
    const id = `${encodeURIComponent(hearing.id)}/photos/${encodeURIComponent(p.record_no)}/${p.index}`;
    const have = shown.get(id);
    if (have) img.src = have;
    else
      api
        .get(`hearings/${id}`, { raw: true, accept: 'image/*' })
        .then((res) => res.blob())
        .then((blob) => {
          const url = URL.createObjectURL(blob);
          shown.set(id, url);
          img.src = url;
        })
        .catch(() => fig.append(h('p', { class: 'alert small' }, t('photos.failed'))));
    return fig;
  });
  box.replaceChildren(h('h2', {}, t('photos.h')), h('div', { class: 'photo-grid', style: 'display:flex;flex-wrap:wrap;gap:8px' }, ...figs));
}
