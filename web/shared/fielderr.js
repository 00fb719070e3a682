// Form errors next to their field: the API's refusal (its stable code and, when it names one, its
// field) is written into the field's error slot (`[data-err-for=FIELD]` inside the form), the
// input is marked aria-invalid and described by the slot; a refusal that names no known field
// goes to the form's alert box. Used by the admin forms and the TOTP enrolment.
import { t, has, stampLang, addStrings } from './i18n.js';
import { errorText } from './api.js';
import { $$, h, showError } from './ui.js';

// Refusals that concern one field without the server naming it.
const CODE_FIELD = { badge_taken: 'badge', password_too_weak: 'password', totp_invalid: 'code', date_has_bookings: 'date' };

/** Empties every error slot of `form` and its alert box. */
export function clearFieldErrors(form, alertBox) {
  for (const slot of $$('[data-err-for]', form)) {
    slot.hidden = true;
    slot.replaceChildren();
    delete slot.dataset.code;
  }
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
  if (alertBox) showError(alertBox, null);
}

/**
 * Shows `err` next to its field in `form` (or in `alertBox`). `fields` maps an API field name to
 * the page's slot name where they differ. Returns the field it was shown at, or ''.
 */
export function showFieldError(form, err, alertBox, fields = {}) {
  const apiField = err?.field || CODE_FIELD[err?.code] || '';
  const name = fields[apiField] || apiField;
  const slot = name ? form.querySelector(`[data-err-for="${CSS.escape(name)}"]`) : null;
  if (!slot) {
    showError(alertBox, err);
    return '';
  }
  const text = err.code && has(`err.${err.code}`) ? errorText({ ...err, field: '' }) : errorText(err);
  const parts = [
    h('span', {}, text),
    // The stable code, and the field the API named (the page's field may be labelled otherwise).
    err.code ? [' ', h('code', { class: 'err-code', title: t('form.codeTitle') }, err.field ? `${err.code} · ${err.field}` : err.code)] : [],
    // The server's own words say which part was wrong (e.g. which interval); in English.
    err.code === 'invalid_field' && err.message ? [' ', h('span', { class: 'small', lang: 'en' }, `(${err.message})`)] : [],
  ];
  slot.replaceChildren(...parts.flat());
  stampLang(slot);
  slot.dataset.code = err.code || '';
  slot.dataset.field = apiField;
  slot.hidden = false;
  const input = slot.id ? form.querySelector(`[aria-describedby~="${CSS.escape(slot.id)}"]`) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
  return name;
}

/** Runs `fn` with `button` busy; a refusal goes next to its field. Returns fn's result or undefined. */
export async function submitForm(form, button, alertBox, fn, fields) {
  clearFieldErrors(form, alertBox);
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  }
  try {
    return await fn();
  } catch (e) {
    showFieldError(form, e, alertBox, fields);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}

addStrings({
  'form.codeTitle': ['错误代码', 'Error code'],
  'err.account_disabled': ['该账号已停用，请联系管理员。', 'This account has been disabled; contact an administrator.'],
  'err.cannot_disable_self': ['不能停用自己的账号。', 'You cannot disable your own account.'],
  'err.totp_already_enrolled': ['该账号已绑定身份验证器。如需更换，请管理员重置。', 'This account already has an authenticator app; an administrator can reset it.'],
  'err.totp_not_started': ['请先点击“开始绑定”获取二维码。', 'Start the setup first to get the QR code.'],
});
