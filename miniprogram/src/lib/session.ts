/**
 * The citizen's session: wx.login → `POST /auth/citizen {wx_code}` (the server's code2Session)
 * → the bearer token and the citizen kept in wx storage; the phone binding from the
 * getPhoneNumber button → `POST /auth/citizen/phone {phone_code}`. The token only ever travels
 * in the Authorization header, never in a URL.
 */
import { ApiError, api, getToken, setToken } from './api';
import { KEYS } from './config';

export interface Citizen {
  id: string;
  phone_masked?: string | null;
  phone_bound: boolean;
}

interface LoginAnswer {
  token: string;
  citizen: Citizen;
}

export function currentCitizen(): Citizen | null {
  const c = wx.getStorageSync(KEYS.citizen);
  return c && typeof c === 'object' && typeof (c as Citizen).id === 'string' ? (c as Citizen) : null;
}

function keepCitizen(c: Citizen | null): void {
  if (c) wx.setStorageSync(KEYS.citizen, c);
  else wx.removeStorageSync(KEYS.citizen);
}

/** A fresh wx.login code (valid 5 minutes, single use). */
export function wxCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (r) => (r.code ? resolve(r.code) : reject(new ApiError(0, 'wx_login', r.errMsg || 'wx.login gave no code'))),
      fail: (e) => reject(new ApiError(0, 'network', e.errMsg)),
    });
  });
}

/** Signs in with a new wx.login code; stores the token and the citizen. */
export async function login(): Promise<Citizen> {
  const code = await wxCode();
  const r = await api.post<LoginAnswer>('auth/citizen', { wx_code: code });
  setToken(r.token);
  keepCitizen(r.citizen);
  return r.citizen;
}

/** The stored session, or a new login when there is none. */
export async function ensureLogin(): Promise<Citizen> {
  const c = currentCitizen();
  if (getToken() && c) return c;
  return login();
}

/** Runs `fn` in a session; a 401 (expired or revoked session) signs in again once and retries. */
export async function withSession<T>(fn: () => Promise<T>): Promise<T> {
  await ensureLogin();
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    setToken(null);
    keepCitizen(null);
    await login();
    return fn();
  }
}

export function logout(): void {
  setToken(null);
  keepCitizen(null);
}

/** The getPhoneNumber button's event detail (a `code` only when the citizen allowed it). */
export interface PhoneDetail {
  code?: string;
  errMsg?: string;
}

/**
 * Binds the phone the citizen shared with the getPhoneNumber button. Without a code (the citizen
 * refused) nothing is sent and `phone_denied` is thrown.
 */
export async function bindPhone(detail: PhoneDetail): Promise<Citizen> {
  if (!detail || !detail.code) throw new ApiError(0, 'phone_denied', detail?.errMsg || 'getPhoneNumber: no code');
  const code = detail.code;
  const r = await withSession(() => api.post<{ phone_masked: string; phone_bound: boolean }>('auth/citizen/phone', { phone_code: code }));
  const c = { ...(currentCitizen() as Citizen), phone_masked: r.phone_masked, phone_bound: r.phone_bound };
  keepCitizen(c);
  return c;
}
