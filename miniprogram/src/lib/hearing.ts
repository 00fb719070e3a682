/**
 * A booking's hearing and the way into its call: the hearing found by booking
 * (`GET /hearings?booking_id=`), its status and steps in words, and the web-view URL of the H5
 * citizen page with a one-time ticket (`POST /hearings/{id}/web-ticket` →
 * `{ticket, hearing_id, expires_at}`, `/?ticket=…`). The session token never goes into a URL:
 * webViewUrl refuses one.
 */
import { api, getToken } from './api';
import { careMode } from './care';
import { H5_PAGE } from './config';
import { t } from './i18n';

export const CLOSED = ['completed', 'referred', 'no_show', 'interrupted'];

export interface StepEntry {
  step: string;
  at: string;
  by: string;
}

export interface Hearing {
  id: string;
  booking_id: string;
  status: string;
  steps: StepEntry[];
  next_step?: string | null;
  next_by?: string | null;
  outcome?: string | null;
}

export interface Ticket {
  ticket: string;
  hearing_id?: string;
  expires_at: string;
}

export function isClosed(h: Hearing | null): boolean {
  return !!h && CLOSED.includes(h.status);
}

/** The booking's live hearing (or its latest one); null when the brigade has not opened one. */
export async function hearingOfBooking(bookingId: string): Promise<Hearing | null> {
  const list = await api.get<Hearing[]>(`hearings?booking_id=${encodeURIComponent(bookingId)}`);
  const items = Array.isArray(list) ? list : [];
  return items.find((h) => !isClosed(h)) || items[0] || null;
}

export function getHearing(id: string): Promise<Hearing> {
  return api.get<Hearing>(`hearings/${encodeURIComponent(id)}`);
}

/** Whether a served decision exists (the `service` step was taken). */
export function hasDecision(h: Hearing | null): boolean {
  return !!h && (h.steps || []).some((s) => s.step === 'service');
}

/** The hearing's status lines and its steps, in the current language. */
export function hearingView(h: Hearing) {
  return {
    id: h.id,
    number: t('mp.hearing.number', { id: h.id }),
    status: h.status,
    statusText: t('mp.hearing.status', { s: t('status.' + h.status) }),
    next: !isClosed(h) && h.next_step ? t('mp.hearing.next', { s: t('step.' + h.next_step) }) : '',
    outcome: isClosed(h) ? t('c.done.' + h.status) : '',
    steps: (h.steps || []).map((s) => ({ step: s.step, text: t('step.' + s.step) })),
    canJoin: !isClosed(h),
    hasDecision: hasDecision(h),
  };
}

/**
 * The H5 call page's URL for a ticket (with `care=1` in 关怀模式); throws rather than ever put
 * the session token in a URL.
 */
export function webViewUrl(ticket: string): string {
  const tok = getToken();
  if (!ticket || (tok && ticket.indexOf(tok) >= 0)) throw new Error('web-view URL refused: not a ticket');
  // 关怀模式 goes with the citizen into the H5 call page (its large-text mode).
  const url = `${H5_PAGE}?ticket=${encodeURIComponent(ticket)}${careMode() ? '&care=1' : ''}`;
  if (tok && url.indexOf(tok) >= 0) throw new Error('web-view URL refused: it holds the session token');
  return url;
}

/** A fresh one-time ticket for the hearing's call and the web-view URL that carries it. */
export async function callUrl(hearingId: string): Promise<{ url: string; expiresAt: string }> {
  const r = await api.post<Ticket>(`hearings/${encodeURIComponent(hearingId)}/web-ticket`, {});
  return { url: webViewUrl(r.ticket), expiresAt: r.expires_at };
}
