// Text in the call (issue 14 §4), shared by the citizen and officer pages: a "文字" button in
// the call bar opens a panel with the messages and a line to type in. A message is sent over
// the signalling socket; it shows only when the server relays it back sealed (with its place in
// the audit log), so the screen never shows a message the record does not have. A message that
// arrives while the panel is closed counts on the button and is announced.
import { h, announce } from './ui.js';
import { t, has, addStrings, stampLang } from './i18n.js';

addStrings({
  'chat.open': ['文字', 'Text'],
  'chat.title': ['文字交流（记入办理记录）', 'Text chat (kept in the record)'],
  'chat.label': ['输入文字', 'Type a message'],
  'chat.send': ['发送', 'Send'],
  'chat.close': ['关闭', 'Close'],
  'chat.empty': ['听不清或无法说话时，可在此打字交流。', 'If you cannot hear or speak, type here.'],
  'chat.new': ['{who}发来文字：{text}', 'Message from {who}: {text}'],
  'chat.from.citizen': ['当事人', 'Citizen'],
  'chat.from.officer': ['民警', 'Officer'],
  'chat.from.interpreter': ['翻译', 'Interpreter'],
  'err.chat_closed': ['办理已结束，不能再发送文字。', 'The hearing is over; no more messages can be sent.'],
  'err.chat_rate_limited': ['发送过快，请稍候再发。', 'Too fast; wait a moment before sending again.'],
  'err.chat_not_recorded': ['文字未能记录，请重新发送。', 'The message could not be recorded; send it again.'],
  'err.chat_unavailable': ['本服务器不支持文字交流。', 'This server does not support text chat.'],
});

const MAX_CHARS = 500;
const CHAT_ERRORS = new Set(['chat_closed', 'chat_rate_limited', 'chat_not_recorded', 'chat_unavailable', 'field_too_long']);

export class CallChat {
  /** `session()`: the current CallSession (or null); `me`: this page's role. */
  constructor(session, me) {
    this.session = session;
    this.me = me;
    this.unread = 0;
    this.button = h('button', { type: 'button', class: 'btn btn-ghost chat-toggle', 'aria-expanded': 'false', onclick: () => this.setOpen(this.panel.hidden) });
    this.log = h('ol', { class: 'chat-log', 'aria-live': 'polite' });
    this.input = h('input', { type: 'text', maxlength: String(MAX_CHARS), autocomplete: 'off', class: 'chat-input' });
    this.err = h('p', { class: 'alert', role: 'alert', hidden: true });
    this.title = h('h2', { class: 'chat-title' });
    this.closeBtn = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => this.setOpen(false) });
    this.sendBtn = h('button', { type: 'submit', class: 'btn btn-sm' });
    const form = h('form', { class: 'chat-form', onsubmit: (ev) => this.submit(ev) }, this.input, this.sendBtn);
    this.panel = h('section', { class: 'chat-panel', hidden: true, role: 'dialog', 'aria-modal': 'false' },
      h('div', { class: 'chat-head' }, this.title, this.closeBtn), this.log, this.err, form);
    document.body.append(this.panel);
    this.onLang = () => this.relabel();
    document.addEventListener('langchange', this.onLang);
    this.relabel();
  }

  relabel() {
    this.button.textContent = this.unread ? `${t('chat.open')} (${this.unread})` : t('chat.open');
    this.title.textContent = t('chat.title');
    this.closeBtn.textContent = t('chat.close');
    this.sendBtn.textContent = t('chat.send');
    this.input.setAttribute('aria-label', t('chat.label'));
    this.input.placeholder = t('chat.empty');
    this.panel.setAttribute('aria-label', t('chat.title'));
    for (const el of [this.button, this.title, this.closeBtn, this.sendBtn]) stampLang(el);
  }

  setOpen(open) {
    this.panel.hidden = !open;
    // On a wide screen the open panel takes its own column (body padding), so it never lies
    // over the step card or its action (style.css, .chat-open).
    document.body.classList.toggle('chat-open', open);
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      this.unread = 0;
      this.relabel();
      this.input.focus();
    }
  }

  submit(ev) {
    ev.preventDefault();
    const text = this.input.value.trim();
    if (!text) return;
    const s = this.session();
    if (!s) return;
    this.err.hidden = true;
    this.pending = text;
    s.send({ type: 'chat', text: text.slice(0, MAX_CHARS) });
  }

  /** A sealed message from the server (`chat {from, text, seq, at}`). */
  add(msg) {
    const who = t(`chat.from.${msg.from}`);
    const mine = msg.from === this.me;
    const time = new Date(msg.at).toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
    this.log.append(h('li', { class: mine ? 'chat-mine' : 'chat-theirs', 'data-seq': String(msg.seq ?? '') },
      h('span', { class: 'chat-meta' }, `${who} ${time}`), h('span', { class: 'chat-text' }, msg.text)));
    this.log.scrollTop = this.log.scrollHeight;
    if (mine && this.pending === msg.text) {
      this.input.value = '';
      this.pending = null;
    }
    if (!mine && this.panel.hidden) {
      this.unread += 1;
      this.relabel();
      announce(t('chat.new', { who, text: msg.text }));
    }
  }

  /** An `error` frame: true when it was about chat (shown in the panel). */
  error(msg) {
    if (!CHAT_ERRORS.has(msg.code)) return false;
    this.err.textContent = has(`err.${msg.code}`) ? t(`err.${msg.code}`) : msg.message;
    stampLang(this.err);
    this.err.hidden = false;
    return true;
  }

  stop() {
    document.removeEventListener('langchange', this.onLang);
    document.body.classList.remove('chat-open');
    this.panel.remove();
  }
}
