// The self-test's words and its result as a definition list, for the citizen's page (after the
// test) and the officer's view of the waiting citizen: the server's score (Good / Okay / Bad) and
// advice codes (src/call/selftest/score.rs), the path, RTT, loss, kbit/s, devices, when.
import { addStrings, t, fmtTime } from './i18n.js';
import { h } from './ui.js';

addStrings({
  'st.h': ['设备自测', 'Self-test'],
  'st.score': ['自测结果', 'Result'],
  'st.score.good': ['良好', 'Good'],
  'st.score.okay': ['一般', 'Okay'],
  'st.score.bad': ['较差', 'Bad'],
  'st.path': ['连接方式', 'Connection'],
  'st.path.udp': ['直连（UDP）', 'Direct (UDP)'],
  'st.path.tcp': ['直连（TCP）', 'Direct (TCP)'],
  'st.path.relay_udp': ['经中转服务器（UDP）', 'Through the relay server (UDP)'],
  'st.path.relay_tcp': ['经中转服务器（TCP）', 'Through the relay server (TCP)'],
  'st.path.relay_tls': ['经中转服务器（TLS）', 'Through the relay server (TLS)'],
  'st.path.failed': ['未连通', 'Not connected'],
  'st.rtt': ['往返延迟', 'Round trip'],
  'st.loss': ['丢包率', 'Packet loss'],
  'st.kbps': ['上行 / 下行', 'Up / down'],
  'st.kbpsValue': ['{up} / {down} kbit/s', '{up} / {down} kbit/s'],
  'st.ms': ['{v} 毫秒', '{v} ms'],
  'st.pct': ['{v}%', '{v}%'],
  'st.devices': ['设备', 'Devices'],
  'st.devicesValue': ['摄像头：{c}；麦克风：{m}；扬声器：{s}', 'camera: {c}; microphone: {m}; speaker: {s}'],
  'st.dev.ok': ['正常', 'OK'],
  'st.dev.denied': ['未授权', 'not allowed'],
  'st.dev.missing': ['未找到', 'not found'],
  'st.dev.error': ['出错', 'failed'],
  'st.dev.silent': ['无声音', 'silent'],
  'st.dev.heard': ['听到提示音', 'tone heard'],
  'st.dev.not_heard': ['听不到提示音', 'tone not heard'],
  'st.dev.skipped': ['未检测', 'not checked'],
  'st.at': ['检测时间', 'Tested at'],
  'st.none': ['当事人尚未进行设备自测。', 'The citizen has not run the self-test yet.'],
  'st.advice.all_good': ['一切正常，可以进入视频办理。', 'All fine: you can join the video.'],
  'st.advice.no_connection': ['无法建立音视频连接。请换一个网络（例如从 Wi-Fi 切换到 4G），或关闭 VPN／代理后重试。', 'No audio/video connection could be made. Try another network (for example switch from Wi-Fi to 4G), or turn off any VPN or proxy, and test again.'],
  'st.advice.high_delay': ['网络延迟较高。请靠近路由器，或切换到 4G。', 'The network delay is high. Move closer to the router, or switch to 4G.'],
  'st.advice.packet_loss': ['网络不稳定（有丢包）。请靠近路由器，或换到信号更好的地方。', 'The network is unstable (packets are lost). Move closer to the router, or to a place with a better signal.'],
  'st.advice.low_bandwidth': ['网速偏慢。请关闭正在下载或播放视频的其他应用，或切换到 4G。', 'The connection is slow. Close other apps that are downloading or playing video, or switch to 4G.'],
  'st.advice.camera_unavailable': ['摄像头不可用。请在浏览器设置中允许使用摄像头；没有摄像头也可以只用语音参加。', 'The camera is not available. Allow the browser to use it; without a camera you can still take part by voice.'],
  'st.advice.mic_unavailable': ['麦克风不可用。请允许浏览器使用麦克风，并关闭正在使用麦克风的其他应用。', 'The microphone is not available. Allow the browser to use it and close other apps that use it.'],
  'st.advice.mic_silent': ['没有检测到您的声音。请检查麦克风是否被遮挡或静音，对着手机说话后再试一次。', 'No sound reached the microphone. Check that it is not covered or muted, speak to the phone and test again.'],
  'st.advice.speaker_not_heard': ['听不到提示音。请调大手机音量、关闭静音模式，或戴上耳机。', 'The test tone was not heard. Turn the volume up, turn silent mode off, or use earphones.'],
});

const fmt = (v, key) => (v === null || v === undefined ? '—' : t(key, { v }));

/** The score as a pill (`data-score` for styles and tests). */
export function scorePill(score) {
  return h('span', { class: 'pill selftest-score', 'data-score': score }, t('st.score.' + score));
}

/** The advice of a result in words (one line each; "all fine" when there is none). */
export function adviceList(advice) {
  const codes = advice?.length ? advice : ['all_good'];
  return h('ul', { class: 'selftest-advice' }, ...codes.map((c) => h('li', { 'data-advice': c }, t('st.advice.' + c))));
}

/** A stored result (`SelfTestView`) as a definition list (`score: false`: without the score row). */
export function selfTestFacts(v, { score = true } = {}) {
  const r = v.report || {};
  const dev = (x) => t('st.dev.' + x);
  return h(
    'dl',
    { class: 'selftest-facts', 'data-selftest-id': v.id },
    score && v.score ? [h('dt', {}, t('st.score')), h('dd', {}, scorePill(v.score))] : null,
    h('dt', {}, t('st.path')),
    h('dd', { 'data-path': r.path }, t('st.path.' + r.path)),
    h('dt', {}, t('st.rtt')),
    h('dd', { 'data-rtt': r.rtt_ms ?? '' }, fmt(r.rtt_ms, 'st.ms')),
    h('dt', {}, t('st.loss')),
    h('dd', { 'data-loss': r.loss_pct ?? '' }, fmt(r.loss_pct, 'st.pct')),
    h('dt', {}, t('st.kbps')),
    h('dd', { 'data-up': r.up_kbps ?? '', 'data-down': r.down_kbps ?? '' }, t('st.kbpsValue', { up: r.up_kbps ?? '—', down: r.down_kbps ?? '—' })),
    h('dt', {}, t('st.devices')),
    h('dd', {}, t('st.devicesValue', { c: dev(r.camera), m: dev(r.microphone), s: dev(r.speaker) })),
    v.at ? [h('dt', {}, t('st.at')), h('dd', {}, fmtTime(v.at))] : null,
  );
}
