// The call's on-screen part shared by the citizen and officer pages: a tile per other seat (the
// main one fills the stage, the others are small tiles on it; a tap makes one the main), self
// view, connection quality, the reconnecting banner, mute and 关闭视频/打开视频 controls, the
// audio-only notes (this side's, with why; the other seats' as a 仅语音 badge). Wraps a
// CallSession. A two-party call has one tile, unlabelled; a tile appears and goes with the seat's
// roster state.
import { CallSession, getLocalMedia } from './call.js';
import { othersOf } from './seats.js';
import { CallChat } from './chat.js';
import { h } from './ui.js';
import { t } from './i18n.js';


/** Failures that another try cannot mend. */
const FINAL = new Set(['hearing_closed', 'ws_replaced', 'join_token_invalid']);

export class CallView {
  /**
   * container: an element to fill; opts: {me (this page's role), peerLabelKey, peerBanner (false:
   * no banner for the other party's state), peerRole (onPeer follows this seat, not the other
   * seats taken together), mainFirst (a seat that gets the main tile whenever it is in the call:
   * the citizen's sign-language interpreter), onHearing, onPeer, onState, onError}
   */
  constructor(container, opts = {}) {
    this.opts = opts;
    // The first seat this one receives (the other party) has the main tile, with peerVideo.
    this.primary = othersOf(opts.me)[0] || null;
    this.peerVideo = h('video', { class: 'peer-video', autoplay: true, playsinline: true, 'aria-label': this.peerLabel() });
    this.tiles = new Map(); // role → {el, video, label}
    this.roster = new Map();
    this.chosen = null; // the seat tapped into the main tile
    this.selfVideo = h('video', { class: 'self-video', autoplay: true, playsinline: true, muted: true, 'aria-label': t('call.self') });
    this.selfVideo.muted = true;
    this.peerWaiting = h('div', { class: 'peer-waiting', 'data-i18n': 'call.waitingPeer' }, t('call.waitingPeer'));
    this.banner = h('div', { class: 'banner banner-warn', role: 'alert', hidden: true });
    this.quality = h('span', { class: 'quality', 'data-level': 'unknown', 'aria-live': 'polite' });
    this.stateLine = h('span', { class: 'call-state', 'data-state': 'idle' });
    this.muteBtn = h('button', { type: 'button', class: 'btn btn-ghost', 'aria-pressed': 'false', onclick: () => this.toggle('audio') }, t('call.mute'));
    this.camBtn = h('button', { type: 'button', class: 'btn btn-ghost', id: 'call-video', 'aria-pressed': 'false', onclick: () => this.toggleVideo() }, t('call.videoOff'));
    this.selfNote = h('div', { class: 'audio-only-note', id: 'self-audio-only', role: 'status', hidden: true });
    this.peerBadge = h('div', { class: 'audio-only-badge', id: 'peer-audio-only', role: 'status', hidden: true });
    this.peerMedia = new Map();
    this.chat = new CallChat(() => this.session, opts.me);
    this.stage = h('div', { class: 'stage', 'data-tiles': '1' }, this.peerWaiting, this.peerBadge, this.selfVideo, this.selfNote);
    if (this.primary) this.tile(this.primary, this.peerVideo);
    else this.stage.prepend(this.peerVideo);
    container.replaceChildren(
      this.banner,
      this.stage,
      h('div', { class: 'call-bar' }, this.stateLine, this.quality, this.muteBtn, this.camBtn, this.chat.button),
    );
    this.renderQuality({ level: 'unknown' });
    this.session = null;
    this.stream = null;
    this.onLang = () => this.relabel();
    document.addEventListener('langchange', this.onLang);
  }

  peerLabel() {
    if (this.opts.peerLabelKey) return t(this.opts.peerLabelKey);
    return this.primary ? t('seat.view', { who: t(`seat.${this.primary}`) }) : t('call.peer');
  }

  /** The tile of a seat, made on first use (hidden until the roster has the seat). */
  tile(role, video) {
    let tile = this.tiles.get(role);
    if (tile) return tile;
    video ||= h('video', { class: 'tile-video', autoplay: true, playsinline: true });
    const label = h('span', { class: 'tile-label', 'aria-hidden': 'true' });
    const el = h('div', { class: 'tile', 'data-role': role, hidden: role !== this.primary }, video, label);
    el.addEventListener('click', () => this.choose(role));
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        this.choose(role);
      }
    });
    tile = { el, video, label };
    this.tiles.set(role, tile);
    this.stage.insertBefore(el, this.peerWaiting);
    this.labelTile(role);
    return tile;
  }

  labelTile(role) {
    const tile = this.tiles.get(role);
    const who = t(`seat.${role}`);
    tile.label.textContent = this.roster.get(role) === 'reconnecting' ? `${who} · ${t('seat.reconnecting')}` : who;
    if (role !== this.primary) tile.video.setAttribute('aria-label', t('seat.view', { who }));
    const small = tile.el.classList.contains('tile-small');
    if (small) {
      tile.el.setAttribute('role', 'button');
      tile.el.tabIndex = 0;
      tile.el.setAttribute('aria-label', t('seat.enlarge', { who }));
    } else {
      tile.el.removeAttribute('role');
      tile.el.removeAttribute('tabindex');
      tile.el.removeAttribute('aria-label');
    }
  }

  /** A tapped small tile becomes the main one. */
  choose(role) {
    if (!this.tiles.get(role)?.el.classList.contains('tile-small')) return;
    this.chosen = role;
    this.layout();
  }

  /** Which tiles show, which is the main one: from the roster (joined or reconnecting seats). */
  layout() {
    const here = (r) => ['joined', 'reconnecting'].includes(this.roster.get(r));
    const others = [...this.tiles.keys()].filter((r) => r !== this.primary && here(r));
    // The other party's tile stays (with "waiting…" on it) unless only other seats are here.
    const shown = [...(this.primary && (here(this.primary) || !others.length) ? [this.primary] : []), ...others];
    const main = [this.chosen, this.opts.mainFirst].find((r) => r && shown.includes(r)) || shown[0];
    let i = 0;
    for (const [role, tile] of this.tiles) {
      const on = shown.includes(role);
      tile.el.hidden = !on;
      tile.el.classList.toggle('tile-main', on && role === main);
      tile.el.classList.toggle('tile-small', on && role !== main);
      tile.el.dataset.state = this.roster.get(role) || 'absent';
      if (on && role !== main) tile.el.style.setProperty('--i', String(i++));
      this.labelTile(role);
      if (on) tile.video.play().catch(() => {});
    }
    this.stage.dataset.tiles = String(Math.max(1, shown.length));
  }

  /** After the zh/en switch: every label in the new language. */
  relabel() {
    this.peerVideo.setAttribute('aria-label', this.peerLabel());
    for (const role of this.tiles.keys()) this.labelTile(role);
    this.selfVideo.setAttribute('aria-label', t('call.self'));
    if (this.stateLine.dataset.state !== 'idle') this.onState(this.stateLine.dataset.state);
    this.renderQuality(this.lastQuality || { level: 'unknown' });
    const off = this.muteBtn.getAttribute('aria-pressed') === 'true';
    this.muteBtn.textContent = t(off ? 'call.unmute' : 'call.mute');
    this.renderVideo();
    this.renderPeerMedia();
    if (!this.banner.hidden) this.banner.setAttribute('lang', document.documentElement.lang);
  }

  async start({ hearingId, joinToken, wsUrl, iceServers, stream, audioOnly }) {
    this.stream = stream || (await getLocalMedia());
    this.selfVideo.srcObject = this.stream;
    const s = new CallSession({ hearingId, joinToken, wsUrl, iceServers, localStream: this.stream, audioOnly });
    this.session = s;
    this.renderVideo();
    s.addEventListener('localvideo', () => this.renderVideo());
    s.addEventListener('media', (e) => {
      const m = e.detail;
      if (m.role === this.opts.me) return;
      if (m.video) this.peerMedia.delete(m.role);
      else this.peerMedia.set(m.role, m.reason);
      this.renderPeerMedia();
      this.opts.onMedia?.(m);
    });
    window.__rhCall = s; // for diagnostics and the end-to-end tests
    s.addEventListener('state', (e) => this.onState(e.detail.state));
    s.addEventListener('remote', (e) => {
      const role = othersOf(this.opts.me).includes(e.detail.role) ? e.detail.role : this.primary;
      const video = role ? this.tile(role).video : this.peerVideo;
      if (video.srcObject !== e.detail.stream) video.srcObject = e.detail.stream;
      video.play().catch(() => {});
    });
    s.addEventListener('seats', (e) => {
      this.roster = e.detail.roster;
      for (const role of this.roster.keys()) if (othersOf(this.opts.me).includes(role)) this.tile(role);
      this.layout();
      // The page's line about one seat (the officer's about the citizen) follows that seat.
      const st = this.roster.get(this.opts.peerRole) || 'absent';
      if (this.opts.peerRole && st !== this.peerRoleState) this.opts.onPeer?.(st);
      this.peerRoleState = st;
    });
    s.addEventListener('quality', (e) => this.renderQuality(e.detail));
    s.addEventListener('joined', (e) => {
      this.setPeerPresent(!!e.detail.peer_present);
      if (this.peerRoleState !== undefined) this.peerRoleState = null; // the new roster says it again
    });
    s.addEventListener('peer', (e) => {
      const st = e.detail.state;
      this.setPeerPresent(st === 'joined');
      // A page that shows the other party's state itself (the officer's) asks for no banner.
      if (this.opts.peerBanner === false) this.hideBanner();
      else if (st === 'reconnecting') this.showBanner(t('peer.reconnecting'));
      else if (st === 'joined') this.hideBanner();
      else if (st === 'left') this.showBanner(t('peer.left'));
      if (!this.opts.peerRole || this.peerRoleState === undefined) this.opts.onPeer?.(st);
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
    this.muteBtn.setAttribute('aria-pressed', String(on));
    this.muteBtn.textContent = t(on ? 'call.unmute' : 'call.mute');
  }

  /** 关闭视频 / 打开视频: video leaves the call (audio-only) or comes back. */
  async toggleVideo() {
    const s = this.session;
    if (!s) return;
    await s.setVideo(!!s.videoOff, 'by_hand');
    this.renderVideo();
  }

  /** This side's video state: the button, the self view, the audio-only note with its reason. */
  renderVideo() {
    const off = this.session?.videoOff || this.stream?.rhNoVideo || null;
    const noCamera = off === 'no_camera' || off === 'camera_denied';
    this.camBtn.setAttribute('aria-pressed', String(!!off));
    this.camBtn.textContent = t(off ? 'call.videoOn' : 'call.videoOff');
    // Without a camera there is nothing to turn on: no button (the note says why).
    this.camBtn.hidden = noCamera;
    this.selfVideo.hidden = !!off;
    this.selfNote.hidden = !off;
    if (off) this.selfNote.textContent = t('call.selfAudioOnly', { why: t('call.why.' + off) });
    this.selfNote.dataset.reason = off || '';
  }

  /** The other seats that send no video: one 仅语音 badge over the peer video. */
  renderPeerMedia() {
    const parts = [...this.peerMedia].map(([role, why]) => t('call.peerAudioOnly', { who: t(`seat.${role}`), why: t('call.whyShort.' + why) }));
    this.peerBadge.hidden = !parts.length;
    this.peerBadge.textContent = parts.join('；');
    this.peerBadge.dataset.roles = [...this.peerMedia.keys()].join(' ');
    // A seat that sends no video: no frozen last picture on its tile.
    for (const [role, tile] of this.tiles) tile.video.classList.toggle('peer-off', this.peerMedia.has(role));
    if (!this.tiles.size) this.peerVideo.classList.toggle('peer-off', this.peerMedia.size > 0);
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
