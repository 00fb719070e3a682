// Officer: the hearing's other participants (issue 19 §2) — the "添加参与人" form (interpreter
// with its language, agent or guardian, legal supervisor), each participant's join link and
// SMS code, and the admit button for those waiting. Its own words (zh/en) live here so the page's
// shared strings stay untouched. Drawn once per hearing; the list refreshes with the room.
import { $, h, busy, showError } from '/shared/ui.js';

const WORDS = {
  zh: {
    h: '其他参与人', add: '添加参与人', role: '身份', name: '姓名', phone: '手机号', language: '语言（手语填 sign）',
    kind: '类别', interpreter: '翻译人员', agent: '代理人', supervisor: '法制员', sign: '手语', verbal: '口语',
    agentKind: '委托代理人', guardian: '监护人', none: '（无）', code: '发送验证码', admit: '准许进入',
    link: '进入链接', added: '已添加', waiting: '等待准许', admitted: '已进入', left: '已离开', empty: '暂无其他参与人',
  },
  en: {
    h: 'Other participants', add: 'Add participant', role: 'Role', name: 'Name', phone: 'Mobile', language: 'Language (sign for sign language)',
    kind: 'Kind', interpreter: 'Interpreter', agent: 'Agent', supervisor: 'Legal supervisor', sign: 'Sign', verbal: 'Verbal',
    agentKind: 'Agent', guardian: 'Guardian', none: '(none)', code: 'Send code', admit: 'Admit',
    link: 'Join link', added: 'Added', waiting: 'Waiting', admitted: 'In the call', left: 'Left', empty: 'No other participants',
  },
};
const w = (k) => (document.documentElement.lang.startsWith('en') ? WORDS.en : WORDS.zh)[k] ?? k;

let drawnFor = '';

/** Draws (once per hearing) the card into `box` and refreshes its list. */
export async function renderParticipants(api, hearing, box, closed) {
  if (!box) return;
  const hid = encodeURIComponent(hearing.id);
  if (drawnFor !== `${hearing.id}:${document.documentElement.lang}`) {
    drawnFor = `${hearing.id}:${document.documentElement.lang}`;
    box.replaceChildren(h('h2', {}, w('h')), h('ul', { class: 'steps', id: 'pt-list' }), h('div', { class: 'alert', id: 'pt-err', role: 'alert', hidden: true }), form(api, hearing));
  }
  $('#pt-form').hidden = closed;
  try {
    const list = await api.get(`hearings/${hid}/participants`);
    drawList(api, hearing, list, closed);
  } catch (e) {
    showError($('#pt-err'), e);
  }
}

function drawList(api, hearing, list, closed) {
  const hid = encodeURIComponent(hearing.id);
  const ul = $('#pt-list');
  if (!list.length) return ul.replaceChildren(h('li', { class: 'muted' }, w('empty')));
  ul.replaceChildren(
    ...list.map((p) => {
      const base = `hearings/${hid}/participants/${encodeURIComponent(p.id)}`;
      const link = `${location.origin}/?hearing=${hid}&participant=${encodeURIComponent(p.id)}`;
      const act = (label, path) =>
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-participant': p.id, 'data-action': path, onclick: (ev) =>
          busy(ev.currentTarget, $('#pt-err'), async () => {
            await api.post(`${base}/${path}`);
            await renderParticipants(api, hearing, $('#participants-box'), closed);
          }) }, label);
      const lang = p.language === 'sign' ? w('sign') : p.language;
      return h(
        'li',
        { 'data-participant': p.id, 'data-status': p.status, style: 'display:block' },
        h('div', {}, h('strong', {}, `${w(p.role)}${lang ? `（${lang}）` : ''} ${p.name}`), ` ${p.phone_masked} · ${w(p.status)}`),
        h(
          'div',
          { class: 'actions' },
          closed || p.status === 'left' ? null : act(w('code'), 'sms-code'),
          !closed && p.status === 'waiting' ? act(w('admit'), 'admit') : null,
        ),
        h('div', { class: 'small mono', style: 'overflow-wrap:anywhere' }, `${w('link')}: ${link}`),
      );
    }),
  );
}

function form(api, hearing) {
  const role = h('select', { id: 'pt-role' }, ...['interpreter', 'agent', 'supervisor'].map((r) => h('option', { value: r }, w(r))));
  const name = h('input', { id: 'pt-name', type: 'text', maxlength: 50, required: true });
  const phone = h('input', { id: 'pt-phone', type: 'tel', maxlength: 14, required: true });
  const language = h('input', { id: 'pt-language', type: 'text', maxlength: 40 });
  const kind = h('select', { id: 'pt-kind' });
  const kinds = () => {
    const k = { interpreter: ['sign', 'verbal'], agent: ['agent', 'guardian'], supervisor: [] }[role.value];
    kind.replaceChildren(...(k.length ? k : ['']).map((x) => h('option', { value: x }, x ? w(x === 'agent' ? 'agentKind' : x) : w('none'))));
    language.disabled = role.value !== 'interpreter';
  };
  role.addEventListener('change', kinds);
  kinds();
  const f = h(
    'form',
    { id: 'pt-form', novalidate: true },
    h('label', { for: 'pt-role' }, w('role')), role,
    h('label', { for: 'pt-name' }, w('name')), name,
    h('label', { for: 'pt-phone' }, w('phone')), phone,
    h('label', { for: 'pt-language' }, w('language')), language,
    h('label', { for: 'pt-kind' }, w('kind')), kind,
    h('button', { type: 'submit', class: 'btn' }, w('add')),
  );
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { role: role.value, name: name.value, phone: phone.value };
    if (role.value === 'interpreter') body.language = language.value;
    if (kind.value) body.kind = kind.value;
    busy(ev.submitter, $('#pt-err'), async () => {
      await api.post(`hearings/${encodeURIComponent(hearing.id)}/participants`, body);
      name.value = '';
      phone.value = '';
      language.value = '';
      await renderParticipants(api, hearing, $('#participants-box'), false);
    });
  });
  return f;
}
