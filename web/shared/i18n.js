// i18n: Chinese first, English on request. Strings live in per-page tables merged into one
// dictionary; elements carry data-i18n=KEY (text) or data-i18n-attr=ATTR:KEY;ATTR2:KEY2.

const dict = { zh: {}, en: {} };
const LANG_KEY = 'rh.lang';

/** Merge a page's strings: addStrings({key: ['中文', 'English'], ...}). */
export function addStrings(table) {
  for (const [key, [zh, en]] of Object.entries(table)) {
    dict.zh[key] = zh;
    dict.en[key] = en;
  }
}

export function getLang() {
  const saved = localStorage.getItem(LANG_KEY);
  return saved === 'en' ? 'en' : 'zh';
}

/** Translate a key, replacing {name} placeholders from vars. Unknown keys come back as-is. */
export function t(key, vars = {}) {
  const lang = getLang();
  let s = dict[lang][key] ?? dict.zh[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function has(key) {
  return key in dict.zh;
}

export function applyI18n(root = document) {
  const lang = getLang();
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((x) => x.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = t(title.dataset.i18n);
}

export function setLang(lang) {
  localStorage.setItem(LANG_KEY, lang === 'en' ? 'en' : 'zh');
  applyI18n();
  document.dispatchEvent(new CustomEvent('langchange', { detail: getLang() }));
}

/** A button that toggles zh/en; shows the language it switches to. */
export function mountLangSwitch(button) {
  const label = () => {
    const other = getLang() === 'zh' ? 'en' : 'zh';
    button.textContent = other === 'en' ? 'English' : '中文';
    button.setAttribute('lang', other === 'en' ? 'en' : 'zh-CN');
    button.setAttribute('aria-label', other === 'en' ? 'Switch to English' : '切换到中文');
  };
  button.addEventListener('click', () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    label();
  });
  label();
}

/** `lang` for a piece of data (a name, a plate, an address): Chinese when it has Chinese characters. */
export function dataLang(text) {
  return /\p{Script=Han}/u.test(String(text ?? '')) ? 'zh-CN' : null;
}

/** Writes data text into `el` and marks its language (WCAG 3.1.2). */
export function setData(el, text) {
  el.textContent = text ?? '';
  const lang = dataLang(text);
  if (lang) el.setAttribute('lang', lang);
  else el.removeAttribute('lang');
  return el;
}

/** Marks `el` as written in the page's current language (a message that is not re-rendered). */
export function stampLang(el) {
  el.setAttribute('lang', document.documentElement.lang || 'zh-CN');
  return el;
}

// The brigade's IANA time zone, from the brigade, slot and booking answers (`timezone`); pages
// call setZone once they know it. Until then times show in the zone of the default brigade.
let zone = 'Asia/Shanghai';

/** Use `tz` (an IANA name from the API) for times and "today"; an unknown name is ignored. */
export function setZone(tz) {
  if (!tz || typeof tz !== 'string') return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    zone = tz;
  } catch {
    /* not a zone this browser knows: keep the current one */
  }
}

export function getZone() {
  return zone;
}

/** Format a time for display in the brigade's zone (see setZone). */
export function fmtTime(iso, opts = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: opts.timeZone || zone,
    year: opts.date === false ? undefined : 'numeric',
    month: opts.date === false ? undefined : '2-digit',
    day: opts.date === false ? undefined : '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}

/** Seconds → "1:05" / "2:03:04". */
export function fmtDuration(secs) {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// Strings shared by every page.
addStrings({
  'common.lang': ['语言', 'Language'],
  'common.logout': ['退出登录', 'Sign out'],
  'common.loading': ['加载中…', 'Loading…'],
  'common.retry': ['重试', 'Retry'],
  'common.cancel': ['取消', 'Cancel'],
  'common.close': ['关闭', 'Close'],
  'common.submit': ['提交', 'Submit'],
  'common.save': ['保存', 'Save'],
  'common.back': ['返回', 'Back'],
  'common.yes': ['是', 'Yes'],
  'common.no': ['否', 'No'],
  'common.none': ['暂无', 'None'],
  'common.refresh': ['刷新', 'Refresh'],
  'common.sendCode': ['获取验证码', 'Send code'],
  'common.resendIn': ['{s} 秒后重发', 'Resend in {s}s'],
  'common.resend': ['重新发送', 'Resend'],
  'common.codeSent': ['验证码已发送', 'Code sent'],
  'status.booked': ['已预约', 'Booked'],
  'status.cancelled': ['已取消', 'Cancelled'],
  'status.in_hearing': ['办理中', 'In hearing'],
  'status.completed': ['已办结', 'Completed'],
  'status.no_show': ['爽约', 'No-show'],
  'status.referred': ['转窗口办理', 'Referred to the window'],
  'status.missed_by_brigade': ['大队未办理（不计爽约）', 'Not held by the brigade (not a no-show)'],
  'status.cancelled_by_brigade': ['大队已取消（不计爽约）', 'Cancelled by the brigade (not a no-show)'],
  // A booking's fate reasons the server records as codes; officers' own reasons are free text.
  'reason.citizen_vanished': ['当事人中途离开', 'The citizen left'],
  'reason.technical_failure': ['技术故障', 'Technical failure'],
  'reason.citizen_asked_to_stop': ['当事人要求暂停', 'The citizen asked to stop'],
  'reason.call_lost': ['双方通话中断', 'The call was lost'],
  'reason.idle': ['长时间无操作，系统中断', 'Idle for too long; interrupted by the system'],
  'reason.code_not_sent': ['民警未发送验证码（不计爽约）', 'No join code was sent (not a no-show)'],
  'reason.hearing_not_opened': ['大队未按时开启办理（不计爽约）', 'The brigade did not open the hearing (not a no-show)'],
  'status.open': ['已开启', 'Open'],
  'status.in_call': ['通话中', 'In call'],
  'status.interrupted': ['已中断', 'Interrupted'],
  'step.identity': ['身份核验', 'Identity check'],
  'step.inquiry': ['询问', 'Inquiry'],
  'step.transcript_ack': ['确认笔录', 'Transcript confirmation'],
  'step.notice': ['告知', 'Notice'],
  'step.notice_ack': ['确认告知', 'Notice acknowledged'],
  'step.statement': ['陈述申辩', 'Statement and defence'],
  'step.ruling': ['裁决', 'Ruling'],
  'step.confirmation': ['确认裁决', 'Confirmation'],
  'step.service': ['送达', 'Service'],
  'step.receipt': ['签收', 'Receipt'],
  'step.recording_sealed': ['录音录像封存', 'Recordings sealed'],
  'step.recordings_sealed': ['录音录像封存', 'Recordings sealed'],
  'step.write_back': ['处罚决定回写交管系统', 'Decision written back to the traffic system'],
  'step.opened': ['开启办理', 'Hearing opened'],
  'step.call_started': ['视频开始', 'Call started'],
  'step.interrupted': ['办理中断', 'Interrupted'],
  'step.resumed': ['继续办理', 'Resumed'],
  'step.no_show': ['记为爽约', 'No-show recorded'],
  'step.hearing_closed': ['办理结束', 'Hearing closed'],
  'step.restated': ['封存后重述', 'restated after sealing'],
  'peer.joined': ['对方已加入', 'The other party joined'],
  'peer.left': ['对方已离开', 'The other party left'],
  'peer.reconnecting': ['对方网络中断，正在等待重连…', 'The other party dropped; waiting for them to reconnect…'],
  'call.reconnecting': ['网络中断，正在重新连接…', 'Connection lost, reconnecting…'],
  'call.reconnectingN': ['网络中断，正在重新连接（{n} 秒）…', 'Connection lost, reconnecting ({n} s)…'],
  'call.retry': ['重新连接', 'Reconnect'],
  'call.connecting': ['正在连接…', 'Connecting…'],
  'call.connected': ['已连接', 'Connected'],
  'call.failed': ['无法连接，请检查网络后重试', 'Could not connect; check the network and retry'],
  'call.quality': ['通话质量', 'Call quality'],
  'call.quality.good': ['良好', 'Good'],
  'call.quality.fair': ['一般', 'Fair'],
  'call.quality.poor': ['较差', 'Poor'],
  'call.quality.unknown': ['检测中', 'Measuring'],
  'call.self': ['本人画面', 'Your camera'],
  'call.waitingPeer': ['等待对方加入…', 'Waiting for the other party…'],
  'call.peer': ['对方画面', 'The other party'],
  'seat.citizen': ['当事人', 'Citizen'],
  'seat.officer': ['民警', 'Officer'],
  'seat.interpreter': ['翻译', 'Interpreter'],
  'seat.agent': ['代理人', 'Agent'],
  'seat.supervisor': ['法制员', 'Supervisor'],
  // The call's audio-only state (callview.js).
  'call.videoOff': ['关闭视频', 'Video off'],
  'call.videoOn': ['打开视频', 'Video on'],
  'call.audioOnly': ['仅语音', 'Audio only'],
  'call.why.no_camera': ['未检测到摄像头', 'no camera found'],
  'call.why.camera_denied': ['摄像头权限被拒绝', 'camera permission refused'],
  'call.why.by_hand': ['已手动关闭视频', 'video turned off by hand'],
  'call.why.weak_link': ['网络较弱，已自动关闭视频', 'weak network: video turned off automatically'],
  'call.whyShort.no_camera': ['无摄像头', 'no camera'],
  'call.whyShort.camera_denied': ['摄像头未授权', 'camera refused'],
  'call.whyShort.by_hand': ['手动关闭', 'turned off'],
  'call.whyShort.weak_link': ['网络较弱', 'weak network'],
  'call.selfAudioOnly': ['仅语音：{why}', 'Audio only: {why}'],
  'call.peerAudioOnly': ['{who}仅语音（{why}）', '{who}: audio only ({why})'],
  'seat.reconnecting': ['重连中', 'reconnecting'],
  'seat.view': ['{who}画面', '{who} (video)'],
  'seat.enlarge': ['{who}画面，点按放大', '{who} (video): tap to enlarge'],
  'call.recording': ['全程录音录像中', 'Recording audio and video'],
  'call.hangup': ['离开通话', 'Leave the call'],
  'call.mute': ['静音', 'Mute'],
  'call.unmute': ['取消静音', 'Unmute'],
  'call.camOff': ['关闭摄像头', 'Camera off'],
  'call.camOn': ['打开摄像头', 'Camera on'],
});
