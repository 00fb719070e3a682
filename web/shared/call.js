// The call: signalling over GET /ws/hearings/{id} (API.md frames) and one RTCPeerConnection to the
// server. The client offers audio+video sendrecv; the server answers. A socket that closes without
// `leave` is a drop: we rejoin with the same join token (grace period 120 s) and offer again.
//
// Events (CallSession is an EventTarget): 'state' {state: connecting|connected|reconnecting|failed|
// closed}, 'joined' {role, peer_present}, 'peer' {state}, 'seats' {roster: Map role → state},
// 'hearing' {status, step}, 'remote' {stream, track, role}, 'quality' {level, rtt, loss,
// framesDecoded, outKbps}, 'error' {code, message}, 'media' {role, video, reason} (a seat's
// audio-only state, this one's included), 'localvideo' {video, reason} (this client's video went
// off or on), 'link' {role, rtt_ms, loss_pct, kbps_in, kbps_out, audio_only, level} (the server's
// measure of a seat's link; only the officer and the supervisor get them).
//
// Seats (docs/call.md "Seats"): the offer has a media slot per seat this one may receive (extra
// slots are recvonly); each received stream is `<role>-stream`, kept in `streams` by role. The
// client subscribes to the roster (`seats`) and derives the aggregated `peer` event from it.
//
// Audio-only (issue 14 §2, docs/call.md): without a camera, or with it refused, the call runs on
// the microphone alone (getLocalMedia marks the stream); the client announces
// `media {video:false, reason}` after every join. setVideo() turns video off and on by hand, and
// the weak-link rule (the join grant's `audio_only`) does it when the outgoing estimate stays low.

import { slotsFor, roleOfStream, aggregate } from './seats.js';

const GRACE_MS = 120_000;
// Answers to an ICE-restart offer after which the client makes a new peer connection instead.
const RESTART_REFUSED = ['restart_unavailable', 'bad_sdp', 'rate_limited', 'media_error', 'room_closed'];

export function wsUrlFor(wsUrl, hearingId) {
  const u = new URL(wsUrl || `/ws/hearings/${encodeURIComponent(hearingId)}`, location.href);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.toString();
}

/**
 * Camera + microphone; tries smaller video when the device refuses the first constraints. With
 * no camera, or the camera refused, the microphone alone: the stream's `rhNoVideo` then says why
 * ('no_camera' | 'camera_denied'). Throws only when there is no microphone either.
 */
export async function getLocalMedia() {
  const tries = [
    { audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' } },
    { audio: true, video: true },
  ];
  let last;
  for (const c of tries) {
    try {
      return await navigator.mediaDevices.getUserMedia(c);
    } catch (e) {
      last = e;
    }
  }
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => null);
  if (!stream) throw last;
  stream.rhNoVideo = last && (last.name === 'NotAllowedError' || last.name === 'SecurityError') ? 'camera_denied' : 'no_camera';
  return stream;
}

/**
 * The weak-link rule: video off when the outgoing estimate stays below `kbps` for `after_s`
 * seconds, back on when it stays above twice that for `back_after_s` seconds. feed() takes one
 * estimate (kbit/s) and its time; it answers 'off', 'on' or null (no change).
 */
export class WeakLink {
  constructor(policy) {
    this.kbps = Number(policy?.kbps ?? 150);
    this.afterMs = 1000 * Number(policy?.after_s ?? 5);
    this.backMs = 1000 * Number(policy?.back_after_s ?? 10);
    this.since = null;
  }

  feed(kbps, videoOn, now) {
    if (!(this.kbps > 0) || kbps == null) return null;
    const bad = videoOn ? kbps < this.kbps : kbps > 2 * this.kbps;
    if (!bad) {
      this.since = null;
      return null;
    }
    if (this.since === null) this.since = now;
    if (now - this.since < (videoOn ? this.afterMs : this.backMs)) return null;
    this.since = null;
    return videoOn ? 'off' : 'on';
  }
}

export class CallSession extends EventTarget {
  constructor({ hearingId, joinToken, wsUrl, iceServers, localStream, audioOnly }) {
    super();
    // Audio-only: why this client sends no video (null: it sends video), whether it ever said
    // so (then it says its state after every join), the weak-link rule.
    this.videoOff = localStream?.rhNoVideo || null;
    this.announced = false;
    this.weak = new WeakLink(audioOnly);
    this.hearingId = hearingId;
    this.joinToken = joinToken;
    this.url = wsUrlFor(wsUrl, hearingId);
    // Several server processes: a join that lands on the wrong one is told where the call is
    // (error wrong_node + node_url, close 4010); drops reconnect through the grant's URL again.
    this.homeUrl = this.url;
    this.nodeUrl = null;
    this.redirects = 0;
    this.iceServers = iceServers || [];
    this.localStream = localStream;
    this.remoteStream = new MediaStream();
    this.streams = new Map(); // role → MediaStream of what that seat sends
    this.roster = new Map(); // role → joined | reconnecting | left (other seats, from `seats`)
    this.peerState = null; // the last aggregate told as 'peer'
    this.role = null;
    this.ws = null;
    this.pc = null;
    this.state = 'idle';
    this.left = false;
    this.dropSince = 0;
    this.retry = 0;
    this.pendingCandidates = [];
    this.statsTimer = null;
    this.pingTimer = null;
    this.lastBytes = null;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', { state });
  }

  start() {
    this.left = false;
    this.setState('connecting');
    this.connect();
    this.statsTimer = setInterval(() => this.sampleStats(), 2000);
  }

  connect() {
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.onDrop();
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', token: this.joinToken }));
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onFrame(msg).catch((e) => this.emit('error', { code: 'client', message: String(e) }));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      if (this.left) return;
      // Final closes are not retried: 4001 replaced by a newer connection with the same token,
      // 4003 token refused, 4009 hearing closed. 4010 (wrong node) goes to node_url; 4008 (join
      // timeout), 1012 (server restarting) and the rest are drops.
      if (ev.code === 4010 && this.nodeUrl && this.redirects < 3) {
        this.url = this.nodeUrl;
        this.nodeUrl = null;
        this.redirects++;
        this.connect();
        return;
      }
      if (ev.code === 4009) {
        this.emit('hearing', { status: 'closed', step: null });
        this.fail({ code: 'hearing_closed', message: ev.reason });
        return;
      }
      if (ev.code >= 4000 && ev.code < 4500 && ev.code !== 4008) {
        this.fail({ code: ev.code === 4001 ? 'ws_replaced' : ev.code === 4003 ? 'join_token_invalid' : 'ws_' + ev.code, message: ev.reason });
        return;
      }
      this.url = this.homeUrl; // the process holding the call may be gone (1012, crash)
      this.onDrop();
    };
  }

  /** After a failure that may mend (the network, the grace period): start over at once. */
  retryNow() {
    if (this.state !== 'failed' || this.left) return;
    this.failure = null;
    this.dropSince = 0;
    this.retry = 0;
    this.setState('connecting');
    this.connect();
  }

  onDrop() {
    if (this.left || this.state === 'failed') return;
    if (!this.dropSince) this.dropSince = Date.now();
    if (Date.now() - this.dropSince > GRACE_MS) {
      this.fail({ code: 'grace_expired', message: 'reconnect window passed' });
      return;
    }
    this.setState('reconnecting');
    // the peer connection stays: the new socket restarts its ICE (negotiate)
    const delay = Math.min(5000, 500 * 2 ** this.retry++);
    setTimeout(() => {
      if (!this.left) this.connect();
    }, delay);
  }

  fail(err) {
    this.failure = err;
    this.setState('failed');
    this.emit('error', err);
    this.closePc();
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  async onFrame(msg) {
    switch (msg.type) {
      case 'joined':
        this.retry = 0;
        this.redirects = 0;
        this.dropSince = 0;
        if (Array.isArray(msg.ice_servers) && msg.ice_servers.length) this.iceServers = msg.ice_servers;
        this.role = msg.role;
        this.peerState = msg.peer_present ? 'joined' : null;
        this.send({ type: 'seats' });
        this.emit('joined', msg);
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 5000); // the server drops a socket idle for 15 s
        await this.negotiate();
        if (this.videoOff || this.announced) this.announce();
        break;
      case 'answer':
        if (this.pc) {
          this.restarting = false;
          await this.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
          for (const c of this.pendingCandidates.splice(0)) await this.addCandidate(c);
          // a restart over a path that still works never leaves `connected`: say so here
          if (this.pc && this.pc.connectionState === 'connected') {
            this.dropSince = 0;
            this.setState('connected');
          }
        }
        break;
      case 'candidate':
        if (!this.pc || !this.pc.remoteDescription || this.restarting) this.pendingCandidates.push(msg);
        else await this.addCandidate(msg);
        break;
      case 'peer':
        this.peerState = msg.state;
        this.emit('peer', msg);
        break;
      case 'seats':
      case 'seat':
        this.onSeats(msg);
        break;
      case 'hearing':
        this.emit('hearing', msg);
        break;
      case 'chat':
        this.emit('chat', msg);
        break;
      case 'media':
        this.emit('media', msg);
        break;
      case 'link':
        this.emit('link', msg); // the server's figures of a seat's link (officer, supervisor)
        break;
      case 'error':
        if (msg.code === 'wrong_node' && msg.node_url) this.nodeUrl = msg.node_url;
        else if (this.restarting && RESTART_REFUSED.includes(msg.code)) await this.negotiate(true);
        else this.emit('error', msg);
        break;
      default:
        break; // pong and anything newer
    }
  }

  /** The roster, then one seat's change: 'seats' always, 'peer' when the aggregate changed. */
  onSeats(msg) {
    if (msg.type === 'seats') {
      if (!Array.isArray(msg.seats)) return;
      this.roster = new Map(msg.seats.map((s) => [s.role, s.state]));
    } else this.roster.set(msg.role, msg.state);
    this.emit('seats', { roster: new Map(this.roster) });
    const now = aggregate(this.roster);
    // The first roster only says what `joined` said already, unless something changed since.
    if (now && now !== this.peerState && (msg.type === 'seat' || this.peerState)) this.emit('peer', { type: 'peer', state: now });
    if (now) this.peerState = now;
  }

  async addCandidate(msg) {
    if (!msg.candidate) return;
    try {
      await this.pc.addIceCandidate({
        candidate: msg.candidate,
        sdpMid: msg.sdpMid ?? null,
        sdpMLineIndex: msg.sdpMLineIndex ?? null,
      });
    } catch {
      /* a stale candidate from before a reconnect */
    }
  }

  /**
   * Offers on the current socket. While the peer connection lives (a socket reconnect, an
   * address change), an ICE restart of it (`offer {ice_restart: true}`): the server keeps its
   * side, media comes back without a new call (docs/call.md "Address change"). Otherwise, or
   * when the server refuses the restart, a new peer connection.
   */
  async negotiate(fresh = false) {
    const old = this.pc;
    if (!fresh && old && old.remoteDescription && old.signalingState === 'stable') {
      this.restarting = true;
      this.pendingCandidates = [];
      const offer = await old.createOffer({ iceRestart: true });
      await old.setLocalDescription(offer);
      this.send({ type: 'offer', sdp: old.localDescription.sdp, ice_restart: true });
      return;
    }
    this.restarting = false;
    this.closePc();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.pendingCandidates = [];
    this.lastBytes = null;
    this.stalled = 0;
    this.remoteStream = new MediaStream();
    this.streams = new Map();
    const tracks = this.localStream ? this.localStream.getTracks() : [];
    for (const kind of ['audio', 'video']) {
      // audio-only: the video transceiver is there without a track (setVideo fills it later)
      const track = kind === 'video' && this.videoOff ? null : tracks.find((tr) => tr.kind === kind);
      const tr = track
        ? pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.localStream] })
        : pc.addTransceiver(kind, { direction: 'sendrecv', streams: this.localStream ? [this.localStream] : [] });
      if (kind === 'video') this.videoSender = tr.sender;
    }
    for (let i = 1; i < slotsFor(this.role); i++) {
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
    }
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate) {
        this.send({
          type: 'candidate',
          candidate: ev.candidate.candidate,
          sdpMid: ev.candidate.sdpMid,
          sdpMLineIndex: ev.candidate.sdpMLineIndex,
        });
      }
    };
    pc.ontrack = (ev) => {
      if (this.pc !== pc) return;
      const role = roleOfStream(ev.streams[0]);
      if (role && !this.streams.has(role)) this.streams.set(role, new MediaStream());
      const stream = role ? this.streams.get(role) : this.remoteStream;
      if (!stream.getTracks().includes(ev.track)) stream.addTrack(ev.track);
      this.emit('remote', { stream, track: ev.track, role });
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      const s = pc.connectionState;
      if (s === 'connected') {
        this.dropSince = 0;
        this.setState('connected');
      } else if (s === 'failed') {
        // ICE failed while signalling may still be up: a fresh socket, then an ICE restart.
        if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.restarting) this.ws.close();
      } else if (s === 'disconnected') {
        // Often back by itself (consent checks late on a busy or lossy link); an address change
        // also drops the socket, whose reconnect restarts ICE, and ICE 'failed' does it here.
        this.setState('reconnecting');
      }
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({ type: 'offer', sdp: pc.localDescription.sdp });
  }

  closePc() {
    if (this.pc) {
      try {
        this.pc.close();
      } catch {
        /* already closed */
      }
      this.pc = null;
    }
  }

  async sampleStats() {
    const pc = this.pc;
    if (!pc) return;
    let stats;
    try {
      stats = await pc.getStats();
    } catch {
      return;
    }
    let rtt = null;
    let outKbps = null;
    let lost = 0;
    let received = 0;
    let framesDecoded = 0;
    let bytes = 0;
    stats.forEach((r) => {
      if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime != null) rtt = r.currentRoundTripTime;
      if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate != null) outKbps = r.availableOutgoingBitrate / 1000;
      if (r.type === 'inbound-rtp') {
        lost += r.packetsLost || 0;
        received += r.packetsReceived || 0;
        bytes += r.bytesReceived || 0;
        if (r.kind === 'video') framesDecoded += r.framesDecoded || 0;
      }
    });
    const loss = received + lost > 0 ? lost / (received + lost) : 0;
    // Media stalled: no new bytes for two samples in a row while connected.
    this.stalled = this.lastBytes !== null && bytes <= this.lastBytes ? (this.stalled || 0) + 1 : 0;
    this.lastBytes = bytes;
    let level = 'unknown';
    if (pc.connectionState === 'connected' && bytes > 0) {
      if (this.stalled >= 2 || (rtt ?? 0) > 0.4 || loss > 0.08) level = 'poor';
      else if ((rtt ?? 0) > 0.15 || loss > 0.02) level = 'fair';
      else level = 'good';
    }
    this.emit('quality', { level, rtt, loss, framesDecoded, outKbps });
    if (pc.connectionState === 'connected') this.onEstimate(outKbps, Date.now());
  }

  /** One outgoing estimate (kbit/s) through the weak-link rule; only it undoes its own 'off'. */
  onEstimate(kbps, now) {
    if (this.videoOff && this.videoOff !== 'weak_link') return;
    const change = this.weak.feed(kbps, !this.videoOff, now);
    if (change) this.setVideo(change === 'on', 'weak_link');
  }

  /** The local camera track, when there is one. */
  cameraTrack() {
    return this.localStream?.getVideoTracks()[0] || null;
  }

  /**
   * Video off or on (reason 'by_hand' | 'weak_link'): the camera's track leaves or rejoins the
   * sender (no renegotiation) and the server is told. Without a camera video cannot come on.
   */
  async setVideo(on, reason) {
    const track = this.cameraTrack();
    if (on && (!track || this.videoOff === 'no_camera' || this.videoOff === 'camera_denied')) return false;
    if (on === !this.videoOff && (on || this.videoOff === reason)) return true;
    this.videoOff = on ? null : reason;
    this.lastReason = reason;
    this.weak.since = null; // the rule counts afresh from the new state
    try {
      await this.videoSender?.replaceTrack(on ? track : null);
    } catch {
      /* the next negotiation applies it */
    }
    this.announce();
    this.emit('localvideo', { video: on, reason });
    return true;
  }

  /** Tells the server this client's video state (after every join once it was ever off). */
  announce() {
    this.announced = true;
    this.send({ type: 'media', video: !this.videoOff, reason: this.videoOff || this.lastReason || 'by_hand' });
  }

  /** Deliberate leave: tell the server, stop retrying, keep local media for the caller to stop. */
  leave() {
    this.left = true;
    this.send({ type: 'leave' });
    clearInterval(this.statsTimer);
    clearInterval(this.pingTimer);
    this.closePc();
    if (this.ws) {
      try {
        this.ws.close(1000, 'leave');
      } catch {
        /* closed */
      }
    }
    this.setState('closed');
  }
}

/** Inspect a call's video decode counter (used by the page's status and by tests). */
export async function framesDecoded(pc) {
  if (!pc) return 0;
  const stats = await pc.getStats();
  let n = 0;
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
  });
  return n;
}
