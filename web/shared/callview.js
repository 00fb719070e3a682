// The call's on-screen part shared by the citizen and officer pages: peer video, self view,
// connection quality, the reconnecting banner, mute/camera controls. Wraps a CallSession.
import { CallSession, getLocalMedia } from './call.js';
import { CallChat } from './chat.js';
import { h } from './ui.js';
import { t } from './i18n.js';

/** Failures that another try cannot mend. */
const FINAL = new Set(['hearing_closed', 'ws_replaced', 'join_token_invalid']);

export class CallView {
  /** container: an element to fill; opts: {me ('citizen' | 'officer'), peerLabelKey, peerBanner (false: no banner for the other party's state), onHearing, onPeer, onState, onError} */
  constructor(container, opts = {}) {
    this.opts = opts;
    this.peerVideo = h('video', { class: 'peer-video', autoplay: true, playsinline: true, 'aria-label': t(opts.peerLabelKey || 'call.peer') });
    this.selfVideo = h('video', { class: 'self-video', autoplay: true, playsinline: true, muted: true, 'aria-label': t('call.self') });
    this.selfVideo.muted = true;
    this.peerWaiting = h('div', { class: 'peer-waiting', 'data-i18n': 'call.waitingPeer' }, t('call.waitingPeer'));
    this.banner = h('div', { class: 'banner banner-warn', role: 'alert', hidden: true });
    this.quality = h('span', { class: 'quality', 'data-level': 'unknown', 'aria-live': 'polite' });
    this.stateLine = h('span', { class: 'call-state', 'data-state': 'idle' });
    this.muteBtn = h('button', { type: 'button', class: 'btn btn-ghost', 'aria-pressed': 'false', onclick: () => this.toggle('audio') }, t('call.mute'));
    this.camBtn = h('button', { type: 'button', class: 'btn btn-ghost', 'aria-pressed': 'false', onclick: () => this.toggle('video') }, t('call.camOff'));
    this.chat = new CallChat(() => this.session, opts.me);
    container.replaceChildren(
      this.banner,
      h('div', { class: 'stage' }, this.peerVideo, this.peerWaiting, this.selfVideo),
      h('div', { class: 'call-bar' }, this.stateLine, this.quality, this.muteBtn, this.camBtn, this.chat.button),
    );
    this.renderQuality({ level: 'unknown' });
    this.session = null;
    this.stream = null;
    this.onLang = () => this.relabel();
    document.addEventListener('langchange', this.onLang);
  }

  /** After the zh/en switch: every label in the new language. */
  relabel() {
    this.peerVideo.setAttribute('aria-label', t(this.opts.peerLabelKey || 'call.peer'));
    this.selfVideo.setAttribute('aria-label', t('call.self'));
    if (this.stateLine.dataset.state !== 'idle') this.onState(this.stateLine.dataset.state);
    this.renderQuality(this.lastQuality || { level: 'unknown' });
    for (const [kind, btn] of [['audio', this.muteBtn], ['video', this.camBtn]]) {
      const off = btn.getAttribute('aria-pressed') === 'true';
      btn.textContent = t(kind === 'audio' ? (off ? 'call.unmute' : 'call.mute') : off ? 'call.camOn' : 'call.camOff');
    }
    if (!this.banner.hidden) this.banner.setAttribute('lang', document.documentElement.lang);
  }

  async start({ hearingId, joinToken, wsUrl, iceServers, stream }) {
    this.stream = stream || (await getLocalMedia());
    this.selfVideo.srcObject = this.stream;
    const s = new CallSession({ hearingId, joinToken, wsUrl, iceServers, localStream: this.stream });
    this.session = s;
    window.__rhCall = s; // for diagnostics and the end-to-end tests
    s.addEventListener('state', (e) => this.onState(e.detail.state));
    s.addEventListener('remote', (e) => {
      if (this.peerVideo.srcObject !== e.detail.stream) this.peerVideo.srcObject = e.detail.stream;
      this.peerVideo.play().catch(() => {});
    });
    s.addEventListener('quality', (e) => this.renderQuality(e.detail));
    s.addEventListener('joined', (e) => this.setPeerPresent(!!e.detail.peer_present));
    s.addEventListener('peer', (e) => {
      const st = e.detail.state;
      this.setPeerPresent(st === 'joined');
      // A page that shows the other party's state itself (the officer's) asks for no banner.
      if (this.opts.peerBanner === false) this.hideBanner();
      else if (st === 'reconnecting') this.showBanner(t('peer.reconnecting'));
      else if (st === 'joined') this.hideBanner();
      else if (st === 'left') this.showBanner(t('peer.left'));
      this.opts.onPeer?.(st);
    });
    s.addEventListener('hearing', (e) => this.opts.onHearing?.(e.detail));
    s.addEventListener('chat', (e) => this.chat.add(e.detail));
    s.addEventListener('error', (e) => {
      if (!this.chat.error(e.detail)) this.opts.onError?.(e.detail);
    });
    s.start();
    return s;
  }

  setPeerPresent(present) {
    this.peerPresent = present;
    this.peerWaiting.hidden = present;
  }

  /**
   * One state of the connection at a time: while reconnecting, a banner counting the seconds
   * and no quality badge; when it failed, the reason and a button to try again (unless the
   * failure is final: the hearing closed, the token refused); connected clears all of it.
   */
  onState(state) {
    this.stateLine.dataset.state = state;
    const key = { connecting: 'call.connecting', connected: 'call.connected', reconnecting: 'call.reconnecting', failed: 'call.failed', closed: 'peer.left' }[state];
    this.stateLine.textContent = key ? t(key) : '';
    this.quality.hidden = state !== 'connected';
    clearInterval(this.downTimer);
    if (state === 'reconnecting') {
      const since = Date.now();
      const show = () => this.showBanner(t('call.reconnectingN', { n: Math.round((Date.now() - since) / 1000) }));
      show();
      this.downTimer = setInterval(show, 1000);
    } else if (state === 'failed') {
      const final = FINAL.has(this.session?.failure?.code);
      this.showBanner(t('call.failed'));
      if (!final) this.banner.append(' ', h('button', { type: 'button', class: 'btn btn-sm', id: 'call-retry', onclick: () => this.session?.retryNow() }, t('call.retry')));
    } else if (state === 'connected') this.hideBanner();
    this.opts.onState?.(state);
  }

  showBanner(text) {
    this.banner.textContent = text;
    this.banner.setAttribute('lang', document.documentElement.lang);
    this.banner.hidden = false;
  }

  hideBanner() {
    this.banner.hidden = true;
  }

  renderQuality({ level, rtt, loss }) {
    this.lastQuality = { level, rtt, loss };
    this.quality.dataset.level = level;
    const bars = { good: '▂▄▆', fair: '▂▄', poor: '▂', unknown: '…' }[level] || '…';
    const extra = rtt != null ? ` · ${Math.round(rtt * 1000)} ms` : '';
    const lossTxt = loss ? ` · ${(loss * 100).toFixed(1)}%` : '';
    this.quality.textContent = `${t('call.quality')}: ${bars} ${t('call.quality.' + level)}${extra}${lossTxt}`;
  }

  toggle(kind) {
    if (!this.stream) return;
    const tracks = kind === 'audio' ? this.stream.getAudioTracks() : this.stream.getVideoTracks();
    const on = tracks.some((tr) => tr.enabled);
    for (const tr of tracks) tr.enabled = !on;
    const btn = kind === 'audio' ? this.muteBtn : this.camBtn;
    btn.setAttribute('aria-pressed', String(on));
    btn.textContent = t(kind === 'audio' ? (on ? 'call.unmute' : 'call.mute') : on ? 'call.camOn' : 'call.camOff');
  }

  stop() {
    clearInterval(this.downTimer);
    document.removeEventListener('langchange', this.onLang);
    this.chat.stop();
    this.session?.leave();
    for (const tr of this.stream?.getTracks() || []) tr.stop();
    this.stream = null;
  }
}
