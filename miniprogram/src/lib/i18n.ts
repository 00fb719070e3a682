/**
 * zh first, en on request: the language choice (remembered per device), `t` with {name}
 * placeholders, and the whole table of one language for WXML (`{{s['c.home.h']}}`).
 */
import { KEYS } from './config';
import { STRINGS } from './strings';

export type Lang = 'zh' | 'en';

export function getLang(): Lang {
  return wx.getStorageSync(KEYS.lang) === 'en' ? 'en' : 'zh';
}

export function setLang(lang: Lang): void {
  wx.setStorageSync(KEYS.lang, lang === 'en' ? 'en' : 'zh');
}

export function has(key: string): boolean {
  return Object.prototype.hasOwnProperty.call(STRINGS, key);
}

/** The text of `key` in the current language with `{name}` filled from `vars`; unknown keys come back as-is. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const pair = STRINGS[key];
  let s = pair ? pair[getLang() === 'en' ? 1 : 0] || pair[0] : key;
  for (const k of Object.keys(vars)) s = s.split(`{${k}}`).join(String(vars[k]));
  return s;
}

/** Every string of one language, for a page's `s` data. */
export function table(lang: Lang = getLang()): Record<string, string> {
  const out: Record<string, string> = {};
  const i = lang === 'en' ? 1 : 0;
  for (const key of Object.keys(STRINGS)) out[key] = STRINGS[key][i] || STRINGS[key][0];
  return out;
}
