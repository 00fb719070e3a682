/**
 * The call: the H5 call page in a web-view, opened with a one-time ticket
 * (`POST /hearings/{id}/web-ticket`), never with the session token. A ticket is single use and
 * short-lived, so every (re)opening fetches a new one. The H5 page goes back here with
 * wx.miniProgram.navigateBack when the hearing ends; what it posted (wx.miniProgram.postMessage)
 * arrives in onMessage.
 */
import { callUrl } from '../../lib/hearing';
import { t } from '../../lib/i18n';
import { errorText, locale } from '../../lib/page';
import { withSession } from '../../lib/session';

Component({
  data: {
    s: {} as Record<string, string>,
    care: false,
    lang: 'zh',
    hearingId: '',
    src: '',
    expiresAt: '',
    error: '',
    messages: [] as unknown[],
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ ...locale('mp.hearing.join'), hearingId: query.hearing || '' });
      return this.open();
    },
    /** A fresh ticket and the web-view pointed at the H5 call page with it. */
    async open() {
      this.setData({ src: '', error: '' });
      if (!this.data.hearingId) return this.setData({ error: t('err.http.404') });
      try {
        const r = await withSession(() => callUrl(this.data.hearingId));
        this.setData({ src: r.url, expiresAt: r.expiresAt });
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    onPageLoad() {
      // The ticket has been spent by the H5 page; nothing to keep.
      this.setData({ expiresAt: '' });
    },
    onPageError(e: WechatMiniprogram.CustomEvent<{ url?: string }>) {
      this.setData({ src: '', error: `${t('mp.call.failed')}${e.detail && e.detail.url ? ` (${e.detail.url.split('?')[0]})` : ''}` });
    },
    onMessage(e: WechatMiniprogram.CustomEvent<{ data?: unknown[] }>) {
      const data = (e.detail && e.detail.data) || [];
      this.setData({ messages: [...this.data.messages, ...data] });
    },
  },
});
