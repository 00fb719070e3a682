/**
 * The served decision and its proofs: the hearing's outcome, the decision's fields, the decision
 * and the proof of service as PDFs (wx.openDocument), and the hearing proof file (its audit
 * bundle, `GET /hearings/{id}/proof`) saved and handed to WeChat's file sharing, for the
 * proof-check page on a computer. wx.shareFileMessage works only straight from a tap, so the
 * proof file is downloaded when the page opens and the tap only shares it. Every download
 * carries the session in its header.
 */
import { DocRow, decisionRows, paths } from '../../lib/decision';
import { download, openPdf, shareFile } from '../../lib/files';
import { DEFAULT_ZONE } from '../../lib/format';
import { Hearing, getHearing, hasDecision } from '../../lib/hearing';
import { has, t } from '../../lib/i18n';
import { api } from '../../lib/api';
import { errorText, locale } from '../../lib/page';
import { withSession } from '../../lib/session';

Component({
  data: {
    s: {} as Record<string, string>,
    care: false,
    lang: 'zh',
    loading: true,
    error: '',
    hearingId: '',
    status: '',
    outcome: '',
    hasDoc: false,
    hasReceipt: false,
    main: [] as DocRow[],
    verify: [] as DocRow[],
    proofSaved: false,
    proofPath: '',
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ ...locale('c.doc.h'), hearingId: query.hearing || '' });
      try {
        const id = this.data.hearingId;
        const h: Hearing = await withSession(() => getHearing(id));
        const closed = ['completed', 'referred', 'no_show', 'interrupted'].indexOf(h.status) >= 0;
        this.setData({
          status: h.status,
          outcome: closed && has('c.done.' + h.status) ? t('c.done.' + h.status) : '',
          hasDoc: hasDecision(h),
          hasReceipt: (h.steps || []).some((s) => s.step === 'receipt'),
        });
        if (hasDecision(h)) {
          const doc = await api.get<Record<string, unknown>>(paths.decisionJson(id));
          const tz = typeof doc.timezone === 'string' ? doc.timezone : DEFAULT_ZONE;
          this.setData(decisionRows(doc, tz));
          await this.fetchProof();
        }
      } catch (e) {
        this.setData({ error: errorText(e) });
      } finally {
        this.setData({ loading: false });
      }
    },
    async openDecision() {
      await this.openPdf(paths.decisionPdf(this.data.hearingId));
    },
    async openServiceProof() {
      await this.openPdf(paths.serviceProofPdf(this.data.hearingId));
    },
    async openPdf(path: string) {
      try {
        await openPdf(await withSession(() => download(path)));
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    /** The proof file, exactly as served, saved as proof-<id>.json. */
    async fetchProof() {
      const id = this.data.hearingId;
      try {
        const file = await withSession(() => download(paths.proof(id), `${wx.env.USER_DATA_PATH}/proof-${id}.json`));
        this.setData({ proofPath: file, proofSaved: true });
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    /** Sends the saved proof file to a chat (fetched first if the page could not). */
    async saveProof() {
      if (!this.data.proofPath) return this.fetchProof();
      try {
        await shareFile(this.data.proofPath, `proof-${this.data.hearingId}.json`);
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
  },
});
