/**
 * Booking: the brigade, the day (tomorrow to 7 days ahead; from today for an urgent booking,
 * with the 3-day expiry shown as the citizen types the registration date), a slot of that day,
 * and the case (plate, owner, violation records, counts) → `POST /bookings`. The phone is bound
 * with the getPhoneNumber button first; the server's refusals are shown in plain words.
 */
import { ApiError, api } from '../../lib/api';
import { Brigade, Slot, bookingBody, nextAnniversary } from '../../lib/booking';
import { loadBrigades } from '../../lib/brigades';
import { askReminder, useWechatReminder } from '../../lib/reminder';
import { DEFAULT_ZONE, daysBetween, fmtTime, todayIn } from '../../lib/format';
import { t } from '../../lib/i18n';
import { errorText, locale, toast } from '../../lib/page';
import { PhoneDetail, bindPhone, currentCitizen, withSession } from '../../lib/session';

interface SlotRow {
  start: string;
  label: string;
  hint: string;
  disabled: boolean;
}

interface ViolationRow {
  key: number;
  record_no: string;
  fine_yuan: string;
  points: string;
}

let brigades: Brigade[] = [];
let rowKey = 0;
const newRow = (): ViolationRow => ({ key: ++rowKey, record_no: '', fine_yuan: '', points: '' });

Component({
  data: {
    s: {} as Record<string, string>,
    care: false,
    lang: 'zh',
    phoneBound: false,
    brigadeNames: [] as string[],
    brigadeIndex: 0,
    brigadeAddress: '',
    today: '',
    date: '',
    dateMin: '',
    dateMax: '',
    slots: [] as SlotRow[],
    slotsLoading: false,
    slotStart: '',
    plate: '',
    owner: false,
    violations: [newRow()],
    unhandled: '',
    currentPoints: '',
    urgent: false,
    urgentKind: 'licence' as 'licence' | 'inspection',
    regDate: '',
    expiryText: '',
    expiryOk: false,
    error: '',
    submitting: false,
  },
  methods: {
    async onLoad() {
      this.setData({ ...locale('c.book.h'), phoneBound: !!currentCitizen()?.phone_bound });
      try {
        brigades = await withSession(() => loadBrigades());
        this.setData({ brigadeNames: brigades.map((b) => b.name), brigadeIndex: 0 });
        this.syncDates();
        await this.loadSlots();
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    zone(): string {
      const b = brigades[this.data.brigadeIndex];
      return (b && b.timezone) || DEFAULT_ZONE;
    },
    /** The day bounds in the brigade's zone: tomorrow..+7, from today when urgent. */
    syncDates() {
      const tz = this.zone();
      const min = todayIn(tz, this.data.urgent ? 0 : 1);
      const max = todayIn(tz, 7);
      let date = this.data.date;
      if (!date || date < min || date > max) date = min;
      const b = brigades[this.data.brigadeIndex];
      this.setData({ today: todayIn(tz), dateMin: min, dateMax: max, date, brigadeAddress: (b && b.address) || '' });
    },
    async loadSlots() {
      const b = brigades[this.data.brigadeIndex];
      if (!b || !this.data.date) return;
      const date = this.data.date;
      this.setData({ slotsLoading: true });
      try {
        const list = await api.get<Slot[]>(`brigades/${encodeURIComponent(b.id)}/slots?from=${date}&to=${date}`);
        const tz = this.zone();
        const now = Date.now();
        const slots = (Array.isArray(list) ? list : []).map((s) => {
          const full = s.remaining <= 0;
          const past = new Date(s.start).getTime() <= now;
          return {
            start: s.start,
            label: `${fmtTime(s.start, tz, { date: false })} – ${fmtTime(s.end, tz, { date: false })}`,
            hint: full ? t('c.book.full') : t('c.book.remaining', { n: s.remaining, c: s.capacity }),
            disabled: full || past,
          };
        });
        const keep = slots.some((s) => s.start === this.data.slotStart && !s.disabled);
        this.setData({ slots, slotStart: keep ? this.data.slotStart : '' });
      } catch (e) {
        this.setData({ error: errorText(e), slots: [] });
      } finally {
        this.setData({ slotsLoading: false });
      }
    },
    onBrigade(e: WechatMiniprogram.PickerChange) {
      this.setData({ brigadeIndex: Number(e.detail.value) || 0 });
      this.syncDates();
      return this.loadSlots();
    },
    onDate(e: WechatMiniprogram.PickerChange) {
      this.setData({ date: String(e.detail.value) });
      return this.loadSlots();
    },
    pickSlot(e: WechatMiniprogram.TouchEvent) {
      const d = e.currentTarget.dataset as { start?: string; disabled?: boolean };
      if (d.start && !d.disabled) this.setData({ slotStart: d.start, error: '' });
    },
    onField(e: WechatMiniprogram.Input) {
      const field = (e.currentTarget.dataset as { field?: string }).field;
      if (field === 'plate' || field === 'unhandled' || field === 'currentPoints') this.setData({ [field]: e.detail.value });
    },
    onOwner(e: WechatMiniprogram.SwitchChange) {
      this.setData({ owner: !!e.detail.value });
    },
    onViolation(e: WechatMiniprogram.Input) {
      const d = e.currentTarget.dataset as { index?: number; key?: string };
      const i = Number(d.index);
      if (!(i >= 0 && i < this.data.violations.length)) return;
      if (d.key !== 'record_no' && d.key !== 'fine_yuan' && d.key !== 'points') return;
      this.setData({ [`violations[${i}].${d.key}`]: e.detail.value });
    },
    addViolation() {
      this.setData({ violations: [...this.data.violations, newRow()] });
    },
    removeViolation(e: WechatMiniprogram.TouchEvent) {
      const i = Number((e.currentTarget.dataset as { index?: number }).index);
      if (i > 0) this.setData({ violations: this.data.violations.filter((_, j) => j !== i) });
    },
    onUrgent(e: WechatMiniprogram.SwitchChange) {
      this.setData({ urgent: !!e.detail.value });
      this.syncDates();
      this.showExpiry();
      return this.loadSlots();
    },
    onKind(e: WechatMiniprogram.RadioGroupChange) {
      this.setData({ urgentKind: e.detail.value === 'inspection' ? 'inspection' : 'licence' });
    },
    onRegDate(e: WechatMiniprogram.PickerChange) {
      this.setData({ regDate: String(e.detail.value) });
      this.showExpiry();
    },
    /** The urgent expiry as the server derives it, and whether it falls within 3 days. */
    showExpiry() {
      const today = todayIn(this.zone());
      const exp = this.data.regDate ? nextAnniversary(this.data.regDate, today) : null;
      if (!exp) return this.setData({ expiryText: '', expiryOk: false });
      const days = daysBetween(today, exp);
      const ok = days <= 3;
      this.setData({ expiryText: `${t('c.book.expiry', { d: exp, n: days })} ${t(ok ? 'c.book.expiryOk' : 'c.book.expiryNo')}`, expiryOk: ok });
    },
    async onPhone(e: WechatMiniprogram.CustomEvent<PhoneDetail>) {
      try {
        const c = await bindPhone(e.detail);
        this.setData({ phoneBound: c.phone_bound, error: '' });
        toast('mp.phone.done');
      } catch (err) {
        const denied = err instanceof ApiError && err.code === 'phone_denied';
        this.setData({ error: denied ? t('mp.phone.denied') : errorText(err) });
      }
    },
    async submit() {
      if (this.data.submitting) return;
      if (!this.data.phoneBound) return this.setData({ error: t('mp.book.needPhone') });
      const b = brigades[this.data.brigadeIndex];
      const r = bookingBody({
        brigadeId: b ? b.id : '',
        slotStart: this.data.slotStart,
        plate: this.data.plate,
        owner: this.data.owner,
        violations: this.data.violations,
        unhandled: this.data.unhandled,
        currentPoints: this.data.currentPoints,
        urgent: this.data.urgent,
        urgentKind: this.data.urgentKind,
        registrationDate: this.data.regDate,
      });
      if ('missing' in r) return this.setData({ error: t(r.missing) });
      this.setData({ submitting: true, error: '' });
      // Asked within the tap (WeChat requires the gesture); told to the server once booked.
      const reminder = askReminder();
      try {
        const created = await withSession(() => api.post<{ id: string }>('bookings', r.body));
        if ((await reminder) && created && created.id) await useWechatReminder(created.id);
        toast('c.book.done');
        wx.navigateBack({ delta: 1 });
      } catch (e) {
        this.setData({ error: errorText(e) });
        // A seat taken meanwhile: show the day's slots as they are now.
        if (e instanceof ApiError && e.code === 'slot_full') await this.loadSlots();
      } finally {
        this.setData({ submitting: false });
      }
    },
  },
});
