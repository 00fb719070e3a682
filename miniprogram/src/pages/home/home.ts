/**
 * Home: signs in (wx.login → the server), offers the phone binding (getPhoneNumber) until a
 * phone is bound, and shows the current booking with the way to its hearing, or the way to book.
 * The language and 关怀模式 switches live here.
 */
import { ApiError } from '../../lib/api';
import { BookingCard, activeBooking, bookingCard, loadBookings } from '../../lib/booking';
import { loadBrigades } from '../../lib/brigades';
import { careMode, setCare } from '../../lib/care';
import { getLang, setLang, t } from '../../lib/i18n';
import { errorText, locale, toast } from '../../lib/page';
import { Citizen, PhoneDetail, bindPhone, ensureLogin, logout, withSession } from '../../lib/session';

const phoneText = (c: Citizen) => t('mp.phone.bound', { p: c.phone_masked || '' });

Component({
  data: {
    s: {} as Record<string, string>,
    care: false,
    lang: 'zh',
    loading: true,
    signedIn: false,
    error: '',
    phoneBound: false,
    phoneText: '',
    active: null as BookingCard | null,
  },
  methods: {
    onShow() {
      return this.refresh();
    },
    async refresh() {
      this.setData({ ...locale('mp.title'), error: '' });
      try {
        const citizen = await ensureLogin();
        this.setData({ signedIn: true, phoneBound: citizen.phone_bound, phoneText: phoneText(citizen) });
        const [bookings, brigades] = await withSession(() => Promise.all([loadBookings(), loadBrigades()]));
        const b = activeBooking(bookings);
        this.setData({ active: b ? bookingCard(b, brigades) : null });
      } catch (e) {
        this.setData({ error: `${t('mp.login.failed')}：${errorText(e)}` });
      } finally {
        this.setData({ loading: false });
      }
    },
    onRetry() {
      logout();
      return this.refresh();
    },
    async onPhone(e: WechatMiniprogram.CustomEvent<PhoneDetail>) {
      try {
        const c = await bindPhone(e.detail);
        this.setData({ phoneBound: c.phone_bound, phoneText: phoneText(c), error: '' });
        toast('mp.phone.done');
      } catch (err) {
        const denied = err instanceof ApiError && err.code === 'phone_denied';
        this.setData({ error: denied ? t('mp.phone.denied') : errorText(err) });
      }
    },
    goBook() {
      wx.navigateTo({ url: '/pages/book/book' });
    },
    goBookings() {
      wx.navigateTo({ url: '/pages/bookings/bookings' });
    },
    goHearing() {
      const b = this.data.active;
      if (b) wx.navigateTo({ url: `/pages/hearing/hearing?booking=${encodeURIComponent(b.id)}` });
    },
    toggleLang() {
      setLang(getLang() === 'zh' ? 'en' : 'zh');
      return this.refresh();
    },
    toggleCare() {
      setCare(!careMode());
      this.setData(locale());
    },
  },
});
