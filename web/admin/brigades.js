// The brigades tab: the list (`GET /brigades`), one brigade's settings (`GET|PATCH
// /admin/brigades/{id}`, `POST /admin/brigades` for a new one) with its hours per weekday written
// as the API's `week_hours` (`mon=09:00-12:00;tue=…`), and its closed dates: one at a time
// (`PUT|DELETE …/closed-dates/{date}`) or from a holiday file (holidays.js parses it; one PUT per
// date, the result per line of the file).
import { t, dataLang } from '/shared/i18n.js';
import { $, h, busy, announce } from '/shared/ui.js';
import { submitForm, clearFieldErrors } from '/shared/fielderr.js';
import { parseHolidays } from './holidays.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `mon=09:00-12:00;tue-wed=…` → {mon: '09:00-12:00', …} (the API writes one day per rule). */
function splitWeek(spec) {
  const out = {};
  for (const part of String(spec || '').split(';')) {
    const [days, hours] = part.split('=');
    if (!hours) continue;
    for (const d of days.split(',')) out[d.trim().slice(0, 3)] = hours.trim();
  }
  return out;
}

export function createBrigades(api, state, loadBrigades) {
  // `cur`: the brigade being edited (the admin view), or {} for a new one; null when none.
  let cur = null;
  // The last holiday-file import: {file, n, results: [{no, text, dates, skip, error, ok, failed}], done}.
  let imp = null;
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['Asia/Shanghai', 'Asia/Urumqi'];
  $('#tz-list').replaceChildren(...zones.map((z) => h('option', { value: z })));

  function renderList() {
    const rows = state.brigades.map((b) =>
      h(
        'tr',
        { 'data-brigade-id': b.id, 'aria-current': cur?.id === b.id ? 'true' : null },
        h('td', { lang: dataLang(b.name) }, b.name),
        h('td', { lang: dataLang(b.address) }, b.address || '—'),
        h('td', { class: 'small' }, b.timezone),
        h('td', {}, h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-edit': b.id, 'aria-label': t('ad.br.editOf', { name: b.name }), onclick: () => edit(b.id) }, t('ad.br.edit'))),
      ),
    );
    if (!rows.length) return $('#br-list').replaceChildren(h('p', { class: 'muted' }, t('ad.br.none')));
    $('#br-list').replaceChildren(
      h('table', {}, h('thead', {}, h('tr', {}, ...['ad.br.name', 'ad.br.address', 'ad.br.timezone', 'ad.col.action'].map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows)),
    );
  }

  function renderDays(week) {
    $('#bf-days').replaceChildren(
      ...DAYS.flatMap((d) => [
        h('label', { for: `bf-day-${d}` }, t(`day.${d}`)),
        h('input', { id: `bf-day-${d}`, type: 'text', 'data-day': d, value: week[d] || '', placeholder: t('ad.br.closedDay'), autocomplete: 'off', spellcheck: 'false', maxlength: '200', 'aria-describedby': 'bf-week-hint bf-week-err' }),
      ]),
    );
  }

  function fillForm() {
    $('#br-edit').hidden = false;
    $('#br-form-h').textContent = cur.id ? t('ad.br.editH', { name: cur.name }) : t('ad.br.newH');
    const name = dataLang(cur.name);
    if (name) $('#br-form-h').setAttribute('lang', name);
    else $('#br-form-h').removeAttribute('lang');
    $('#bf-name').value = cur.name || '';
    $('#bf-address').value = cur.address || '';
    $('#bf-timezone').value = cur.timezone || 'Asia/Shanghai';
    $('#bf-seats').value = cur.seats ?? 4;
    $('#bf-slot').value = cur.slot_minutes ?? 60;
    renderDays(cur.id ? splitWeek(cur.week_hours) : Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, '09:00-12:00,13:30-17:30'])));
    clearFieldErrors($('#br-form'), $('#br-form-err'));
    renderClosed();
  }

  function renderClosed() {
    $('#br-closed').hidden = !cur?.id;
    if (!cur?.id) return;
    const dates = cur.closed_dates || [];
    $('#cd-list').replaceChildren(
      dates.length
        ? h(
          'ul',
          { class: 'closed-dates', 'aria-labelledby': 'cd-h' },
          ...dates.map((d) =>
            h('li', { 'data-date': d }, h('span', { class: 'mono' }, d), h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': t('ad.cd.reopenOf', { d }), onclick: (e) => reopen(e.currentTarget, d) }, t('ad.cd.reopen'))),
          ),
        )
        : h('p', { class: 'muted' }, t('ad.cd.none')),
    );
  }

  async function edit(id) {
    await busy(null, $('#br-list-err'), async () => {
      cur = await api.get(`admin/brigades/${encodeURIComponent(id)}`);
      imp = null;
      drawImport();
      fillForm();
      renderList();
      $('#br-form-h').focus();
    });
  }

  $('#br-new').addEventListener('click', () => {
    cur = {};
    imp = null;
      drawImport();
    fillForm();
    renderList();
    $('#br-form-h').focus();
  });

  $('#br-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    submitForm(form, ev.submitter, $('#br-form-err'), async () => {
      const week = DAYS.map((d) => [d, $(`#bf-day-${d}`).value.trim()]).filter(([, v]) => v);
      const body = {
        name: $('#bf-name').value,
        address: $('#bf-address').value,
        timezone: $('#bf-timezone').value.trim(),
        seats: Number($('#bf-seats').value),
        slot_minutes: Number($('#bf-slot').value),
        week_hours: week.map(([d, v]) => `${d}=${v}`).join(';'),
      };
      if (!body.week_hours) {
        // The API refuses a schedule open on no weekday with the same code and field.
        throw Object.assign(new Error('the schedule opens on no weekday'), { code: 'invalid_field', field: 'week_hours', status: 422 });
      }
      const created = !cur.id;
      cur = created ? await api.post('admin/brigades', body) : await api.request('PATCH', `admin/brigades/${encodeURIComponent(cur.id)}`, body);
      await loadBrigades();
      fillForm();
      renderList();
      announce(t(created ? 'ad.br.created' : 'ad.br.saved', { name: cur.name }));
    });
  });

  $('#cd-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const d = $('#cd-date').value;
    submitForm(form, ev.submitter, $('#cd-err'), async () => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw Object.assign(new Error('a date YYYY-MM-DD'), { code: 'invalid_field', field: 'date', status: 422 });
      await api.put(`admin/brigades/${encodeURIComponent(cur.id)}/closed-dates/${d}`);
      await reload();
      announce(t('ad.cd.added', { d }));
    });
  });

  async function reopen(button, d) {
    await busy(button, $('#cd-err'), async () => {
      await api.del(`admin/brigades/${encodeURIComponent(cur.id)}/closed-dates/${d}`);
      await reload();
      announce(t('ad.cd.reopened', { d }));
    });
  }

  async function reload() {
    cur = await api.get(`admin/brigades/${encodeURIComponent(cur.id)}`);
    renderClosed();
  }

  // ---------- holiday file ----------
  $('#cd-file').addEventListener('change', async (ev) => {
    const file = ev.target.files?.[0];
    if (!file || !cur?.id) return;
    const box = $('#cd-import');
    if (file.size > 256 * 1024) return box.replaceChildren(h('p', { class: 'alert', role: 'alert' }, t('ad.imp.tooBig')));
    const id = cur.id;
    const { dates, lines } = parseHolidays(await file.text());
    imp = { file: file.name, n: dates.length, results: lines.map((l) => ({ ...l, ok: l.error ? false : undefined })), done: false };
    const results = imp.results;
    const draw = (done) => {
      imp.done = done;
      drawImport();
    };
    draw(false);
    // One PUT per date, in the file's order; a refused date marks its line.
    for (const r of results) {
      if (r.skip) continue;
      if (r.error) continue;
      r.failed = [];
      for (const d of r.dates) {
        try {
          await api.put(`admin/brigades/${encodeURIComponent(id)}/closed-dates/${d}`);
        } catch (e) {
          r.failed.push({ d, e });
          if (e.status === 401) break;
        }
      }
      r.ok = r.failed.length === 0;
    }
    draw(true);
    ev.target.value = '';
    if (cur?.id === id) await reload();
    $('#cd-import-summary').focus();
  });

  /** The import's summary and its lines, in the current language. */
  function drawImport() {
    const box = $('#cd-import');
    if (!imp) return box.replaceChildren();
    const ok = imp.results.filter((r) => r.ok === true).length;
    const bad = imp.results.filter((r) => r.ok === false).length;
    box.replaceChildren(
      h('p', { id: 'cd-import-summary', tabindex: '-1', 'data-done': String(imp.done), 'data-ok': String(ok), 'data-failed': String(bad) }, imp.done ? t('ad.imp.summary', { file: imp.file, ok, bad }) : t('ad.imp.running', { n: imp.n })),
      h('ol', { class: 'import-result', id: 'cd-import-lines', 'aria-label': t('ad.imp.lines') }, ...imp.results.filter((r) => !r.skip).map(lineItem)),
    );
  }

  function lineItem(r) {
    const head = t('ad.imp.line', { n: r.no });
    let text;
    if (r.ok === undefined) text = t('common.loading');
    else if (r.error) text = t(`ad.imp.err.${r.error}`);
    else if (r.ok) text = t('ad.imp.ok', { dates: r.dates.length > 1 ? `${r.dates[0]}~${r.dates[r.dates.length - 1]}` : r.dates[0] });
    else text = r.failed.map((f) => `${f.d}: ${errText(f.e)}`).join('；');
    // The file's own line, as written (its language is its own).
    const raw = r.error ? [' — ', h('code', { lang: dataLang(r.text) }, r.text)] : [];
    return h('li', { 'data-line': String(r.no), 'data-ok': r.ok === undefined ? null : String(r.ok), 'data-code': r.error || r.failed?.[0]?.e?.code || null }, `${head}${t('ad.imp.sep')}${text}`, raw);
  }

  function errText(e) {
    const n = Array.isArray(e.params?.bookings) ? e.params.bookings.length : 0;
    if (e.code === 'date_has_bookings') return t('ad.imp.hasBookings', { n, code: e.code });
    return `${t(`err.${e.code}`) === `err.${e.code}` ? e.message : t(`err.${e.code}`)} (${e.code || e.status})`;
  }

  return {
    async show() {
      await busy(null, $('#br-list-err'), loadBrigades);
      renderList();
      if (cur) fillFormKeepingInput();
    },
    render() {
      renderList();
      if (cur) fillFormKeepingInput();
      drawImport();
    },
  };

  /** Redraws the labels in the current language, keeping what was typed. */
  function fillFormKeepingInput() {
    const typed = Object.fromEntries(DAYS.map((d) => [d, $(`#bf-day-${d}`)?.value ?? '']));
    $('#br-form-h').textContent = cur.id ? t('ad.br.editH', { name: cur.name }) : t('ad.br.newH');
    renderDays(typed);
    renderClosed();
  }
}

