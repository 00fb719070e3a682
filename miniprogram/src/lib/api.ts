/**
 * The server's REST API over wx.request: the citizen's bearer token from storage, JSON in and
 * out, and the contract's errors (`{error: {code, message, field?, params?}}`) as ApiError with
 * plain words through i18n (errorText). A 401 forgets the session.
 */
import { API_BASE, KEYS } from './config';
import { has, t } from './i18n';

export class ApiError extends Error {
  status: number;
  code: string;
  field: string;
  params: Record<string, unknown>;
  retryAfter?: number;

  constructor(status: number, code: string, message: string, field?: string, params?: unknown, retryAfter?: number) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = field || '';
    this.params = params && typeof params === 'object' ? (params as Record<string, unknown>) : {};
    this.retryAfter = retryAfter;
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export function getToken(): string {
  const tok = wx.getStorageSync(KEYS.token);
  return typeof tok === 'string' ? tok : '';
}

export function setToken(tok: string | null): void {
  if (tok) wx.setStorageSync(KEYS.token, tok);
  else wx.removeStorageSync(KEYS.token);
}

/** The Authorization header of the session (empty without one). */
export function authHeader(): Record<string, string> {
  const tok = getToken();
  return tok ? { Authorization: `Bearer ${tok}` } : {};
}

function headerValue(header: unknown, name: string): string | undefined {
  if (!header || typeof header !== 'object') return undefined;
  const h = header as Record<string, unknown>;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : String(h[key]);
}

/** One API call: `path` is relative to /api/v1 (`bookings`, `hearings/ID`). */
export function request<T = unknown>(method: Method, path: string, body?: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const header: Record<string, string> = { Accept: 'application/json', ...authHeader() };
    if (body !== undefined) header['Content-Type'] = 'application/json';
    wx.request({
      url: `${API_BASE}/${path}`,
      method,
      header,
      data: body === undefined ? undefined : (body as WechatMiniprogram.IAnyObject),
      dataType: 'json',
      success: (res) => {
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve((res.statusCode === 204 ? null : res.data) as T);
          return;
        }
        if (res.statusCode === 401 && header.Authorization) setToken(null);
        const data = res.data as { error?: { code?: string; message?: string; field?: string; params?: unknown } } | undefined;
        const e = (data && typeof data === 'object' && data.error) || {};
        const ra = headerValue(res.header, 'Retry-After');
        reject(new ApiError(res.statusCode, e.code || '', e.message || '', e.field, e.params, ra ? Number(ra) : undefined));
      },
      fail: (err) => reject(new ApiError(0, 'network', err.errMsg)),
    });
  });
}

export const api = {
  get: <T = unknown>(p: string) => request<T>('GET', p),
  post: <T = unknown>(p: string, b: unknown = {}) => request<T>('POST', p, b),
  put: <T = unknown>(p: string, b: unknown = {}) => request<T>('PUT', p, b),
  del: <T = unknown>(p: string) => request<T>('DELETE', p),
};

/** The words for `code` with its params; a text left with a `{name}` falls back to `.plain`. */
function codeText(code: string, params: Record<string, unknown>): string {
  const vars: Record<string, string> = {};
  for (const k of Object.keys(params)) vars[k] = String(params[k]);
  const text = t(`err.${code}`, vars);
  if (/\{[a-z_]+\}/.test(text) && has(`err.${code}.plain`)) return t(`err.${code}.plain`);
  return text;
}

/** Plain words for anything thrown: an ApiError by its code, then by its HTTP status. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (!(err instanceof ApiError)) return t('err.unexpected', { msg: String((err as Error)?.message || err) });
  let text: string;
  if (err.code && has(`err.${err.code}`)) text = codeText(err.code, err.params);
  else if (has(`err.http.${err.status}`)) text = t(`err.http.${err.status}`);
  else text = t('err.unexpected', { msg: err.message });
  if (err.field) {
    const label = has(`field.${err.field}`) ? t(`field.${err.field}`) : err.field;
    text = t('err.withField', { field: label, text });
  }
  if (err.retryAfter && err.status === 429) text += ' ' + t('err.retryAfter', { s: err.retryAfter });
  return text;
}
