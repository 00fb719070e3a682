/**
 * Bookings as the API gives them and the booking form's rules, kept out of the pages so they are
 * tested alone: the current booking, a booking's card in words, the urgent 3-day expiry (the
 * server's derivation, as on the H5 page) and the body of `POST /bookings`.
 */
import { api } from './api';
import { DEFAULT_ZONE, fmtTime } from './format';
import { has, t } from './i18n';

export const ACTIVE = ['booked', 'in_hearing'];

export interface Violation {
  record_no: string;
  fine_yuan: number;
  points: number;
}

export interface Booking {
  id: string;
  status: string;
  brigade_id: string;
  slot_start: string;
  slot_end: string;
  timezone?: string;
  urgent: boolean;
  deadline?: string | null;
  plate: string;
  owner?: boolean;
  phone_masked?: string;
  violations?: Violation[];
  created_at: string;
  reason?: string | null;
  moved_from?: string | null;
}

export interface Brigade {
  id: string;
  name: string;
  address?: string;
  timezone?: string;
}

export interface Slot {
  start: string;
  end: string;
  capacity: number;
  remaining: number;
}

/** A booking as its card shows it (every text already in the current language). */
export interface BookingCard {
  id: string;
  status: string;
  statusText: string;
  brigade: string;
  time: string;
  plate: string;
  urgent: boolean;
  deadline: string;
  movedFrom: string;
  reason: string;
  cancellable: boolean;
}

/** Newest first, as the H5 page lists them. */
export function sortBookings(list: Booking[]): Booking[] {
  return [...list].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
}

/** The citizen's current booking (booked or in a hearing), if any. */
export function activeBooking(list: Booking[]): Booking | null {
  return sortBookings(list).find((b) => ACTIVE.includes(b.status)) || null;
}

export function bookingCard(b: Booking, brigades: Brigade[]): BookingCard {
  const tz = b.timezone || DEFAULT_ZONE;
  const br = brigades.find((x) => x.id === b.brigade_id);
  const reason = b.reason ? (has('reason.' + b.reason) ? t('reason.' + b.reason) : b.reason) : '';
  return {
    id: b.id,
    status: b.status,
    statusText: t('status.' + b.status),
    brigade: br ? br.name : b.brigade_id,
    time: `${fmtTime(b.slot_start, tz)} – ${fmtTime(b.slot_end, tz, { date: false })}`,
    plate: b.plate,
    urgent: !!b.urgent,
    deadline: b.deadline ? fmtTime(b.deadline, tz) : '',
    movedFrom: b.moved_from ? fmtTime(b.moved_from, tz) : '',
    reason,
    cancellable: b.status === 'booked',
  };
}

export async function loadBookings(): Promise<Booking[]> {
  const list = await api.get<Booking[] | { items: Booking[] }>('bookings');
  return sortBookings(Array.isArray(list) ? list : (list && list.items) || []);
}

/** The next anniversary of `reg` on or after `today` (29 Feb → 28 Feb), as the server derives it. */
export function nextAnniversary(reg: string, today: string): string | null {
  const [ry, rm, rd] = reg.split('-').map(Number);
  const [ty] = today.split('-').map(Number);
  if (!ry || !rm || !rd || reg > today) return null;
  const first = Math.max(ty, ry + 1);
  for (let y = first; y <= first + 1; y++) {
    const dim = new Date(Date.UTC(y, rm, 0)).getUTCDate();
    const day = Math.min(rd, dim);
    const s = `${y}-${String(rm).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    if (s >= today) return s;
  }
  return null;
}

/** What the booking form holds (numbers as typed). */
export interface BookingForm {
  brigadeId: string;
  slotStart: string;
  plate: string;
  owner: boolean;
  violations: { record_no: string; fine_yuan: string; points: string }[];
  unhandled: string;
  currentPoints: string;
  urgent: boolean;
  urgentKind: 'licence' | 'inspection';
  registrationDate: string;
}

export interface BookingBody {
  brigade_id: string;
  slot_start: string;
  plate: string;
  owner: boolean;
  violations: Violation[];
  unhandled_count: number;
  current_points: number;
  urgent?: { kind: 'licence' | 'inspection'; registration_date: string };
}

const whole = (s: string) => (/^\d+$/.test(String(s).trim()) ? Number(String(s).trim()) : NaN);

/**
 * The body of `POST /bookings`, or the key of what the citizen still has to give
 * (`c.book.pickSlot`, `mp.book.needCase`). The phone is never sent: the mini program binds it
 * with the getPhoneNumber button first.
 */
export function bookingBody(f: BookingForm): { body: BookingBody } | { missing: string } {
  if (!f.slotStart) return { missing: 'c.book.pickSlot' };
  const plate = f.plate.trim().toUpperCase();
  const violations = f.violations.map((v) => ({ record_no: v.record_no.trim(), fine_yuan: whole(v.fine_yuan), points: whole(v.points) }));
  if (!plate || !violations.length || violations.some((v) => !v.record_no || Number.isNaN(v.fine_yuan) || Number.isNaN(v.points))) {
    return { missing: 'mp.book.needCase' };
  }
  const unhandled = f.unhandled.trim() === '' ? violations.length : whole(f.unhandled);
  const points = f.currentPoints.trim() === '' ? 0 : whole(f.currentPoints);
  if (Number.isNaN(unhandled) || Number.isNaN(points)) return { missing: 'mp.book.needCase' };
  const body: BookingBody = {
    brigade_id: f.brigadeId,
    slot_start: f.slotStart,
    plate,
    owner: f.owner,
    violations,
    unhandled_count: unhandled,
    current_points: points,
  };
  if (f.urgent) {
    if (!f.registrationDate) return { missing: 'c.book.regDate' };
    body.urgent = { kind: f.urgentKind, registration_date: f.registrationDate };
  }
  return { body };
}
