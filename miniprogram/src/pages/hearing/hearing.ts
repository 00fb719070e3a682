/**
 * A booking's hearing: not opened yet, its status and the steps taken, the way into the call
 * (the call page, web-view) while it is open, and to the served decision once there is one.
 * Polls every 5 s while the page shows and the hearing is not closed.
 */
import { Hearing, getHearing, hearingOfBooking, hearingView, isClosed } from '../../lib/hearing';
import { errorText, locale } from '../../lib/page';
import { withSession } from '../../lib/session';

const POLL_MS = 5000;
let timer: number | null = null;

function stopPolling() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

Component({
  data: {
    s: {} as Record<string, string>,
    care: false,
    lang: 'zh',
    loading: true,
    error: '',
    bookingId: '',
    hearingId: '',
    hearing: null as ReturnType<typeof hearingView> | null,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ bookingId: query.booking || '', hearingId: query.hearing || '' });
    },
    onShow() {
      return this.refresh();
    },
    onHide() {
      stopPolling();
    },
    onUnload() {
      stopPolling();
    },
    async refresh() {
      this.setData({ ...locale('mp.home.hearing'), error: '' });
      try {
        const h: Hearing | null = await withSession(() =>
          this.data.hearingId ? getHearing(this.data.hearingId) : hearingOfBooking(this.data.bookingId),
        );
        this.setData({ hearing: h ? hearingView(h) : null, hearingId: h ? h.id : '' });
        stopPolling();
        if (!h || !isClosed(h)) timer = setInterval(() => this.refresh(), POLL_MS) as unknown as number;
      } catch (e) {
        this.setData({ error: errorText(e) });
      } finally {
        this.setData({ loading: false });
      }
    },
    join() {
      if (this.data.hearingId) wx.navigateTo({ url: `/pages/call/call?hearing=${encodeURIComponent(this.data.hearingId)}` });
    },
    openDecision() {
      if (this.data.hearingId) wx.navigateTo({ url: `/pages/decision/decision?hearing=${encodeURIComponent(this.data.hearingId)}` });
    },
  },
});
