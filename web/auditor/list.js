// The auditor's list of hearings: the search form (date, brigade, officer name or badge, plate,
// status, decision number) sent to GET /api/v1/audit/hearings, one page at a time (the server's
// cursor for "next", the cursors seen so far for "previous"). The rows show the case: date and
// slot, brigade, officer by name and badge, plate, outcome, decision number.
import { t, has, fmtTime, dataLang } from '/shared/i18n.js';
import { $, h, busy } from '/shared/ui.js';

/** A piece of data (a name, a plate) marked with its own language. */
export const data = (text, attrs = {}) => h('span', { ...attrs, lang: dataLang(text) }, text ?? '');

/** The hearing's outcome in words: why it closed, else its status. */
export function outcomeText(hr) {
  if (hr.outcome && has('a.outcome.' + hr.outcome)) return t('a.outcome.' + hr.outcome);
  if (hr.outcome) return hr.outcome;
  return has('status.' + hr.status) ? t('status.' + hr.status) : hr.status;
}

/** "09:00–10:00" in the brigade's zone. */
export function slotText(hr) {
  const o = { date: false, timeZone: hr.timezone };
  return `${fmtTime(hr.slot_start, o)}–${fmtTime(hr.slot_end, o)}`;
}

/** The officer: name (marked as data) and badge. */
export const officerNode = (o) => h('span', {}, data(o.name), t('a.list.badgeParen', { b: o.badge }));

export function createList(api) {
  const st = { items: [], next: null, cursors: [null], page: 0, query: '', brigadesLoaded: false };

  function query() {
    const q = new URLSearchParams();
    const put = (k, v) => v && q.set(k, v);
    put('date', $('#f-date').value);
    put('brigade_id', $('#f-brigade').value);
    put('officer', $('#f-officer').value.trim());
    put('plate', $('#f-plate').value.trim().toUpperCase());
    put('status', $('#f-status').value);
    put('decision_no', $('#f-decision').value.trim());
    return q;
  }

  async function loadBrigades() {
    if (st.brigadesLoaded) return;
    const list = (await api.get('brigades')) || [];
    const sel = $('#f-brigade');
    for (const b of list) sel.append(h('option', { value: b.id, lang: dataLang(b.name) }, b.name));
    st.brigadesLoaded = true;
  }

  async function load() {
    const q = new URLSearchParams(st.query);
    q.set('limit', '20');
    const cursor = st.cursors[st.page];
    if (cursor) q.set('cursor', cursor);
    const res = await api.get(`audit/hearings?${q}`);
    st.items = res.items || [];
    st.next = res.next_cursor || null;
    st.cursors[st.page + 1] = st.next;
  }

  function render() {
    $('#list-count').textContent = t('a.list.count', { p: st.page + 1, n: st.items.length }) + (st.next ? ' ' + t('a.list.more') : '');
    $('#list-prev').hidden = st.page === 0;
    $('#list-next').hidden = !st.next;
    if (!st.items.length) return $('#list').replaceChildren(h('p', { class: 'muted' }, t('a.list.none')));
    const cols = ['a.list.date', 'a.list.brigade', 'a.hr.officer', 'a.list.plate', 'a.list.outcome', 'a.list.decision'];
    $('#list').replaceChildren(
      h(
        'table',
        { id: 'hearings' },
        h('thead', {}, h('tr', {}, ...cols.map((k) => h('th', { scope: 'col' }, t(k))), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('a.list.action'))))),
        h(
          'tbody',
          {},
          ...st.items.map((hr) =>
            h(
              'tr',
              { 'data-hearing-id': hr.id, 'data-status': hr.status },
              h('td', { class: 'nowrap' }, h('div', {}, hr.date), h('div', { class: 'small muted' }, slotText(hr))),
              h('td', {}, data(hr.brigade_name)),
              h('td', {}, data(hr.officer.name), h('div', { class: 'small muted' }, t('a.list.badge', { b: hr.officer.badge }))),
              h('td', { class: 'nowrap' }, hr.plate ? data(hr.plate) : '—'),
              h('td', {}, h('span', { class: 'pill', 'data-status': hr.status }, outcomeText(hr))),
              h('td', { class: 'small' }, hr.decision_no ? data(hr.decision_no) : '—'),
              h('td', {}, h('a', { class: 'btn btn-ghost', href: `#hearing=${encodeURIComponent(hr.id)}`, 'aria-label': `${t('a.list.view')} ${hr.date} ${hr.plate || ''}` }, t('a.list.view'))),
            ),
          ),
        ),
      ),
    );
  }

  const errBox = () => $('#list-err');
  /** Searches from the first page with the form's filters. */
  async function search(button) {
    st.query = query().toString();
    st.page = 0;
    st.cursors = [null];
    await busy(button, errBox(), load);
    render();
  }
  /** The page shown now, fetched again (or the first search when none ran). */
  async function refresh(button) {
    await busy(button, errBox(), loadBrigades);
    if (!st.query && st.page === 0) st.query = query().toString();
    await busy(button, errBox(), load);
    render();
  }

  $('#search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search(ev.submitter);
  });
  $('#f-clear').addEventListener('click', (ev) => {
    $('#search').reset();
    search(ev.currentTarget);
  });
  $('#list-refresh').addEventListener('click', (ev) => refresh(ev.currentTarget));
  $('#list-next').addEventListener('click', async (ev) => {
    if (!st.next) return;
    st.page += 1;
    await busy(ev.currentTarget, errBox(), load);
    render();
    $('#list-h').focus?.();
  });
  $('#list-prev').addEventListener('click', async (ev) => {
    if (st.page === 0) return;
    st.page -= 1;
    await busy(ev.currentTarget, errBox(), load);
    render();
  });
  return { refresh, render };
}
