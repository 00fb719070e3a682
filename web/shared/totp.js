// Staff TOTP enrolment (两步验证), shared by the officer and admin pages: the account's state from
// `auth/me`; "开始绑定" asks `auth/totp/enroll` for a fresh secret and shows its QR code (the
// server's SVG, shown as an image: never put into the page's markup) and the secret for typing
// by hand; the app's first code goes to `auth/totp/confirm`. A refusal shows next to the code.
import { t, addStrings } from './i18n.js';
import { $, h, announce } from './ui.js';
import { submitForm } from './fielderr.js';

/**
 * Mounts the enrolment into `box` (an empty element); `onEnrolled()` runs after a confirmation.
 * Returns `{ refresh() }`: reads the state again and draws it.
 */
export function mountTotp(box, api, { onEnrolled } = {}) {
  const st = { enrolled: null, setup: null };

  function draw() {
    const head = h('h2', { id: 'totp-h', tabindex: '-1' }, t('totp.h'));
    if (st.enrolled === null) return box.replaceChildren(head, h('p', { class: 'muted' }, t('common.loading')));
    if (st.enrolled) {
      return box.replaceChildren(
        head,
        h('p', { id: 'totp-state', 'data-enrolled': 'true' }, h('span', { class: 'pill', 'data-ok': 'true' }, t('totp.on')), ' ', t('totp.onText')),
      );
    }
    const intro = [
      h('p', { id: 'totp-state', 'data-enrolled': 'false' }, h('span', { class: 'pill', 'data-ok': 'false' }, t('totp.off')), ' ', t('totp.offText')),
    ];
    if (!st.setup) {
      return box.replaceChildren(
        head,
        ...intro,
        h('div', { class: 'alert', id: 'totp-err', role: 'alert', hidden: true }),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', id: 'totp-start', onclick: (e) => start(e.currentTarget) }, t('totp.start'))),
      );
    }
    const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(st.setup.qr_svg)}`;
    const secret = st.setup.secret.replace(/(.{4})/g, '$1 ').trim();
    const form = h(
      'form',
      { id: 'totp-form', novalidate: true },
      h('ol', { class: 'totp-steps' },
        h('li', {}, t('totp.step1')),
        h('li', {}, t('totp.step2')),
      ),
      h('img', { id: 'totp-qr', class: 'totp-qr', src, width: '220', height: '220', alt: t('totp.qrAlt') }),
      h('details', {}, h('summary', {}, t('totp.manual')), h('p', { class: 'small' }, t('totp.manualText')), h('p', { class: 'mono', id: 'totp-secret' }, secret)),
      h('label', { for: 'totp-code' }, t('totp.code')),
      h('input', { id: 'totp-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}', required: true, 'aria-describedby': 'totp-code-hint totp-code-err' }),
      h('p', { class: 'hint', id: 'totp-code-hint' }, t('totp.codeHint')),
      h('p', { class: 'field-err', id: 'totp-code-err', 'data-err-for': 'code', hidden: true }),
      h('div', { class: 'alert', id: 'totp-err', role: 'alert', hidden: true }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn', id: 'totp-confirm' }, t('totp.confirm')),
        h('button', { type: 'button', class: 'btn btn-ghost', id: 'totp-restart', onclick: (e) => start(e.currentTarget) }, t('totp.restart')),
      ),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      confirm(form, ev.submitter);
    });
    box.replaceChildren(head, ...intro, form);
  }

  async function start(button) {
    const err = $('#totp-err', box);
    await submitForm(box, button, err, async () => {
      try {
        st.setup = await api.post('auth/totp/enroll');
      } catch (e) {
        if (e.code !== 'totp_already_enrolled') throw e;
        st.enrolled = true;
      }
      draw();
      $('#totp-qr', box)?.scrollIntoView({ block: 'nearest' });
      $('#totp-code', box)?.focus();
    });
  }

  async function confirm(form, button) {
    await submitForm(form, button, $('#totp-err', form), async () => {
      const code = $('#totp-code', form).value.trim();
      await api.post('auth/totp/confirm', { code });
      st.enrolled = true;
      st.setup = null;
      draw();
      announce(t('totp.done'));
      $('#totp-h', box)?.focus();
      await onEnrolled?.();
    });
  }

  async function refresh() {
    try {
      const me = await api.get('auth/me');
      st.enrolled = !!me.totp_enrolled;
    } catch {
      st.enrolled = null;
    }
    draw();
  }

  document.addEventListener('langchange', () => {
    // Keep what was typed across the switch.
    const typed = $('#totp-code', box)?.value;
    draw();
    if (typed) $('#totp-code', box).value = typed;
  });
  return { refresh };
}

addStrings({
  'totp.h': ['两步验证', 'Two-step verification'],
  'totp.on': ['已启用', 'On'],
  'totp.onText': ['登录时除密码外还需输入身份验证器应用中的 6 位动态验证码。丢失手机时请联系管理员重置。', 'Signing in needs the 6-digit code of your authenticator app besides the password. If you lose the phone, ask an administrator to reset it.'],
  'totp.off': ['未启用', 'Off'],
  'totp.offText': ['绑定手机上的身份验证器应用后，他人即使知道密码也无法登录。', 'With an authenticator app on your phone, a password alone no longer signs in.'],
  'totp.start': ['开始绑定', 'Set it up'],
  'totp.restart': ['重新生成二维码', 'New QR code'],
  'totp.step1': ['在手机上打开身份验证器应用（如 FreeOTP、Microsoft Authenticator、Google 身份验证器），扫描下方二维码。', 'Open an authenticator app on your phone (FreeOTP, Microsoft Authenticator, Google Authenticator…) and scan the QR code below.'],
  'totp.step2': ['输入应用中显示的 6 位数字，点击“确认绑定”。', 'Enter the 6 digits the app shows and confirm.'],
  'totp.qrAlt': ['绑定身份验证器的二维码', 'QR code for the authenticator app'],
  'totp.manual': ['无法扫码？手动输入密钥', 'Cannot scan? Type the key'],
  'totp.manualText': ['在应用中选择“手动输入”，类型选“基于时间”，输入以下密钥：', 'In the app choose “enter a key”, time-based, and type this key:'],
  'totp.code': ['动态验证码', 'One-time code'],
  'totp.codeHint': ['6 位数字，每 30 秒更新一次。', '6 digits; a new one every 30 seconds.'],
  'totp.confirm': ['确认绑定', 'Confirm'],
  'totp.done': ['两步验证已启用。', 'Two-step verification is on.'],
});
