/**
 * Where the server is. SERVER is the deployment's https origin: the same origin must be in the
 * mini program's request, socket and web-view business domains (README.md).
 */
export const SERVER = 'https://hearing.example.gov.cn';

/**
 * The H5 citizen page the call's web-view opens (served at `/`; `/citizen/` serves the same
 * page), with `?ticket=…`.
 */
export const H5_PAGE = `${SERVER}/`;

/**
 * The booking reminder's subscription message template (订阅消息), as registered in the mini
 * program's console; the server's `wechat.reminder_template_id` must be the same. Empty: the
 * citizen is not asked, and reminders go by SMS.
 */
export const REMINDER_TEMPLATE_ID = 'TMPL-BOOKING-REMINDER';

/** The REST API under SERVER. */
export const API_BASE = `${SERVER}/api/v1`;

/** Storage keys (wx storage, per device). */
export const KEYS = {
  token: 'rh.token.citizen',
  citizen: 'rh.citizen',
  lang: 'rh.lang',
  care: 'rh.care',
} as const;
