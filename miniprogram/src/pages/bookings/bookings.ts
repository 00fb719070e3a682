/**
 * My bookings: every booking of the citizen, newest first, with its fate in words; a `booked`
 * one is cancelled after a confirmation (`DELETE /bookings/{id}`); the others lead to their
 * hearing's status.
 */
import { api } from '../../lib/api';
import { BookingCard, bookingCard, loadBookings } from '../../lib/booking';
import { loadBrigades } from '../../lib/brigades';
import { confirm, errorText, locale, toast } from '../../lib/page';
import { withSession } from '../../lib/session';

Component({
  data: {
    s: {} as Record<string, string>,
    care: false,
    lang: 'zh',
    loading: true,
    error: '',
    cards: [] as BookingCard[],
  },
  methods: {
    onShow() {
      return this.reload();
    },
    async reload() {
      this.setData({ ...locale('mp.home.myBookings'), error: '' });
      try {
        const [list, brigades] = await withSession(() => Promise.all([loadBookings(), loadBrigades()]));
        this.setData({ cards: list.map((b) => bookingCard(b, brigades)) });
      } catch (e) {
        this.setData({ error: errorText(e) });
      } finally {
        this.setData({ loading: false });
      }
    },
    async cancel(e: WechatMiniprogram.TouchEvent) {
      const id = String((e.currentTarget.dataset as { id?: string }).id || '');
      if (!id || !(await confirm('c.home.cancelConfirm'))) return;
      try {
        await withSession(() => api.del(`bookings/${encodeURIComponent(id)}`));
        toast('c.home.cancelled');
      } catch (err) {
        this.setData({ error: errorText(err) });
        return;
      }
      await this.reload();
    },
    openHearing(e: WechatMiniprogram.TouchEvent) {
      const id = String((e.currentTarget.dataset as { id?: string }).id || '');
      if (id) wx.navigateTo({ url: `/pages/hearing/hearing?booking=${encodeURIComponent(id)}` });
    },
  },
});
