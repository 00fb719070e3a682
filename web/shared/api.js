// API client for /api/v1: bearer token per page scope, JSON in and out, and every error code of
// the contract (API.md) turned into plain words through i18n (errorText).
import { addStrings, t, has } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter, params) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || '';
    this.retryAfter = retryAfter;
    // The numbers the refusal speaks of (e.g. {days: 7}), interpolated into our own words.
    this.params = params && typeof params === 'object' ? params : {};
  }
}

/** The value of the readable cookie `name` (the CSRF cookie of the cookie mode), or null. */
function readCookie(name) {
  const hit = document.cookie.split(';').map((c) => c.trim().split('=')).find(([k]) => k === name);
  return hit && hit[1] ? hit[1] : null;
}

/**
 * A client bound to a token scope ('citizen' or 'staff'): tokens survive a reload. With
 * `{cookie: true}` the session lives in an HttpOnly cookie this script never sees
 * (src/identity/cookie.rs): requests name the scope (`X-Session`), writes carry the CSRF token
 * from its readable cookie, and `token` is only a marker that a session exists.
 */
export function createApi(scope, { cookie = false } = {}) {
  const key = `rh.token.${scope}`;
  const csrfName = `rh_c_${scope}`;
  const api = {
    cookie,
    get token() {
      if (cookie) return readCookie(csrfName) ? 'cookie' : null;
      return localStorage.getItem(key);
    },
    setToken(tok) {
      if (cookie) {
        // the server sets and clears the session cookie; a lost session drops the marker
        if (tok === null) document.cookie = `${csrfName}=; Max-Age=0; Path=/; SameSite=Strict`;
        return;
      }
      if (tok) localStorage.setItem(key, tok);
      else localStorage.removeItem(key);
    },
    /** The headers that authenticate a request (also for fetches made elsewhere). */
    authHeaders(method = 'GET', path = '') {
      if (!cookie) return api.token ? { Authorization: `Bearer ${api.token}` } : {};
      const h = { 'X-Session': scope };
      if (String(path).startsWith('auth/')) h['X-Session-Mode'] = 'cookie';
      const csrf = readCookie(csrfName);
      if (method !== 'GET' && csrf) h['X-CSRF-Token'] = csrf;
      return h;
    },
    async request(method, path, body, opts = {}) {
      const headers = { Accept: opts.accept || 'application/json', ...api.authHeaders(method, path) };
      const tok = api.token;
      let payload;
      if (body !== undefined && opts.contentType) {
        // A raw body (an image) sent as it is.
        headers['Content-Type'] = opts.contentType;
        payload = body;
      } else if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      let res;
      try {
        res = await fetch(path.startsWith('/') ? path : `/api/v1/${path}`, {
          method,
          headers,
          body: payload,
          credentials: 'same-origin',
        });
      } catch (e) {
        throw new ApiError(0, 'network', String(e));
      }
      if (res.status === 401 && tok && !opts.keepToken) {
        api.setToken(null);
        document.dispatchEvent(new CustomEvent('unauthorized', { detail: scope }));
      }
      if (!res.ok) {
        let code = '';
        let message = '';
        let field = '';
        let params;
        try {
          const j = await res.json();
          const e = j.error || j;
          code = e.code || '';
          message = e.message || '';
          field = e.field || '';
          params = e.params;
        } catch {
          /* not JSON */
        }
        const ra = res.headers.get('Retry-After');
        throw new ApiError(res.status, code, message, field, ra ? Number(ra) : undefined, params);
      }
      if (opts.raw) return res;
      if (res.status === 204) return null;
      const ct = res.headers.get('Content-Type') || '';
      if (ct.includes('json')) return res.json();
      return res.text();
    },
    get: (p, o) => api.request('GET', p, undefined, o),
    post: (p, b, o) => api.request('POST', p, b === undefined ? {} : b, o),
    put: (p, b, o) => api.request('PUT', p, b === undefined ? {} : b, o),
    del: (p, o) => api.request('DELETE', p, undefined, o),
  };
  return api;
}

/** Plain words for an error (ApiError or anything thrown). */
export function errorText(err) {
  if (typeof err === 'string') return err;
  if (!(err instanceof ApiError) && !err?.code) return t('err.unexpected', { msg: String(err?.message || err) });
  const code = err.code;
  let text;
  if (code && has(`err.${code}`)) text = errText(code, paramsOf(code, err.params || {}));
  else if (has(`err.http.${err.status}`)) text = t(`err.http.${err.status}`);
  else text = t('err.unexpected', { msg: err.message });
  if (err.field) {
    const label = has(`field.${err.field}`) ? t(`field.${err.field}`) : err.field;
    text = t('err.withField', { field: label, text });
  }
  if (err.retryAfter && err.status === 429) text += ' ' + t('err.retryAfter', { s: err.retryAfter });
  return text;
}

/**
 * The words for `code` with the refusal's `params` filled in. A string that names a parameter
 * the server did not send falls back to its `.plain` variant (no number), so no `{days}` shows.
 */
/** The refusal's params in words: `call_not_live` lists who is missing what. */
function paramsOf(code, params) {
  if (code !== 'call_not_live' || !Array.isArray(params.missing)) return params;
  const who = params.missing.map((m) => (has(`live.${m.party}.${m.missing}`) ? t(`live.${m.party}.${m.missing}`) : `${m.party}: ${m.missing}`));
  return { ...params, who: who.join(t('live.sep')) };
}

function errText(code, params) {
  const text = t(`err.${code}`, params);
  if (/\{[a-z_]+\}/.test(text) && has(`err.${code}.plain`)) return t(`err.${code}.plain`);
  return text;
}

addStrings({
  'err.withField': ['{field}：{text}', '{field}: {text}'],
  'err.retryAfter': ['请 {s} 秒后再试。', 'Try again in {s} seconds.'],
  'err.unexpected': ['出现意外错误（{msg}），请稍后再试。', 'Something went wrong ({msg}). Please try again later.'],
  'err.network': ['网络连接失败，请检查网络后重试。', 'The network is unreachable. Check your connection and retry.'],
  // booking rules
  'err.slot_full': ['该时段已约满，请选择其他时段。', 'This time slot is full. Please choose another.'],
  'err.same_day_not_allowed': ['普通预约不能预约当天，请选择明天及以后的日期。', 'A normal booking cannot be for today. Choose tomorrow or later.'],
  'err.too_far_ahead': ['最多只能预约 {days} 天内的时段。', 'You can book at most {days} days ahead.'],
  'err.too_far_ahead.plain': ['该时段超出可预约的日期范围。', 'That slot is too far ahead.'],
  'err.slot_in_past': ['该时段已过，请选择之后的时段。', 'That time slot has already passed.'],
  'err.brigade_closed': ['该大队在此时间不办公（周末、节假日或非办公时间）。', 'The brigade is closed at that time (weekend, holiday or outside opening hours).'],
  'err.active_booking_exists': ['您已有一个有效预约，办结或取消后才能再次预约。', 'You already have an active booking. Finish or cancel it before booking again.'],
  'err.blacklisted': ['本月爽约已达 {no_shows} 次，预约服务暂停至 {until}。', 'You missed {no_shows} hearings this month; booking is suspended until {until}.'],
  'err.blacklisted.plain': ['本月爽约次数过多，预约服务暂停一个月。', 'Too many missed hearings this month; booking is suspended for one month.'],
  'err.rebook_after_cancel': ['取消后不能再次预约同一大队同一天的时段。', 'After cancelling you cannot book the same brigade on the same day again.'],
  'err.vehicle_driver_limit': ['该车辆已被 {drivers} 名非车主驾驶人预约，无法再预约。', 'This vehicle is already in bookings of {drivers} drivers who do not own it.'],
  'err.vehicle_driver_limit.plain': ['该车辆的非车主驾驶人预约已达上限，无法再预约。', 'This vehicle has reached its limit of non-owner drivers.'],
  'err.not_urgent_eligible': ['到期日不在 {days} 天之内，不能加急预约，请使用普通预约。', 'The expiry is not within {days} days, so an urgent booking is not allowed. Use a normal booking.'],
  'err.not_urgent_eligible.plain': ['不符合加急预约条件，请使用普通预约。', 'Not eligible for an urgent booking. Use a normal booking.'],
  'err.ineligible_case': ['该违法不符合远程处理条件（单次罚款超过 {max_fine_yuan} 元、未处理违法超过 {max_unhandled} 起，或处理后累计记分将达到 {points_ceiling} 分），请到窗口办理。', 'This case cannot be handled remotely (a fine over {max_fine_yuan} yuan, more than {max_unhandled} unhandled violations, or points reaching {points_ceiling}). Please go to a service window.'],
  'err.ineligible_case.plain': ['该违法不符合远程处理条件，请到窗口办理。', 'This case cannot be handled remotely. Please go to a service window.'],
  'err.record_already_booked': ['违法记录 {record_no} 已在另一预约或办理中，不能重复预约或继续办理。', 'Violation record {record_no} is already held by another booking or hearing.'],
  'err.record_already_booked.plain': ['该违法记录已在另一预约或办理中。', 'That violation record is already held by another booking or hearing.'],
  'err.plate_mismatch': ['违法记录 {record_no} 登记的号牌是 {record_plate}，请按该号牌预约。', 'Violation record {record_no} was recorded on {record_plate}: book it with that plate.'],
  'err.plate_mismatch.plain': ['号牌与违法记录登记的号牌不一致。', 'The plate is not the one on the violation record.'],
  'err.phone_binding_immutable': ['手机号绑定后不能在线更换，请到窗口办理。', 'The bound phone number cannot be changed online. Please go to a service window.'],
  // the party and evidence (issue 12)
  'err.id_number_invalid': ['身份证号码有误（应为18位，校验码和出生日期须正确），请核对。', 'The ID number is not valid (18 characters with a correct check digit and birth date). Please check it.'],
  'err.name_invalid': ['请填写身份证上的姓名（2至30个汉字，少数民族姓名可用“·”分隔）。', 'Enter the name as on the ID card (2 to 30 Chinese characters; parts may be joined with “·”).'],
  'err.identity_immutable': ['身份信息已用于办理，不能在线修改，请到窗口办理。', 'Your identity has been used in a hearing and cannot be changed online. Please go to a service window.'],
  'err.ticket_invalid': ['入口链接已失效（只能使用一次，有效期1分钟），请回到小程序重新进入。', 'This entry link has expired (it works once, for one minute). Go back to the mini program and open the hearing again.'],
  'err.identity_missing': ['当事人尚未填写姓名和身份证号码。', 'The citizen has not given a name and ID number yet.'],
  'err.not_an_image': ['上传的不是完整的 JPEG 或 PNG 图片。', 'The upload is not a complete JPEG or PNG image.'],
  'err.evidence_limit': ['本次办理上传的图片已达上限（{max} 张）。', 'This hearing already has the most images allowed ({max}).'],
  'err.evidence_limit.plain': ['本次办理上传的图片已达上限。', 'This hearing already has the most images allowed.'],
  // hearing and codes
  'err.call_not_live': ['通话中断或录像未在进行（{who}），本步骤不能进行：全程录像是法定要求，请等待双方都回到通话中。', 'The call is not live ({who}); no step can be taken until both are back in the recorded call (the law requires recording throughout).'],
  'err.call_not_live.plain': ['通话中断或录像未在进行，本步骤不能进行，请等待双方都回到通话中。', 'The call is not live; no step can be taken until both are back in the recorded call.'],
  'live.citizen.connection': ['当事人不在通话中', 'the citizen is not connected'],
  'live.citizen.recording': ['当事人的录像未在进行', 'the citizen is not being recorded'],
  'live.officer.connection': ['民警不在通话中', 'the officer is not connected'],
  'live.officer.recording': ['民警的录像未在进行', 'the officer is not being recorded'],
  'live.sep': ['；', '; '],
  'err.invalid_state': ['当前不能进行此操作（步骤顺序不对或办理已结束），请刷新后查看。', 'This step is not possible now (out of order or the hearing is closed). Refresh to see the current state.'],
  'err.ruling_exceeds_notice': ['裁决不能重于告知时拟作出的处罚（罚款 {fine_yuan} 元、记 {points} 分）。', 'The ruling cannot be heavier than the penalty proposed in the notice ({fine_yuan} yuan, {points} points).'],
  'err.ruling_exceeds_notice.plain': ['裁决不能重于告知时拟作出的处罚。', 'The ruling cannot be heavier than the penalty proposed in the notice.'],
  'err.code_invalid': ['验证码错误或已过期，请核对短信或重新获取。', 'The code is wrong or has expired. Check the SMS or request a new one.'],
  'err.code_attempts_exceeded': ['验证码错误次数过多已失效，请重新获取。', 'Too many wrong tries: this code is no longer valid. Request a new one.'],
  'err.sms_throttled': ['短信发送过于频繁，请稍后再试。', 'Too many text messages were sent; please wait a moment.'],
  // generic codes the server may use
  'err.bad_json': ['请求格式不正确。', 'The request was malformed.'],
  'err.bad_request': ['请求格式不正确。', 'The request was malformed.'],
  'err.validation': ['填写的内容不符合要求。', 'Some of the input is not valid.'],
  'err.invalid_field': ['填写的内容不符合要求。', 'Some of the input is not valid.'],
  'err.unauthorized': ['登录已失效，请重新登录。', 'Your session has ended. Please sign in again.'],
  'err.invalid_credentials': ['警号或密码不正确。', 'Wrong badge number or password.'],
  'err.bad_credentials': ['警号或密码不正确。', 'Wrong badge number or password.'],
  'err.login_throttled': ['登录尝试过于频繁，请稍后再试。', 'Too many sign-in attempts; please wait a moment.'],
  'err.totp_required': ['该账号已启用动态验证码：请输入身份验证器应用中的 6 位数字后再次登录。', 'This account uses an authenticator app: enter its 6-digit code and sign in again.'],
  'err.totp_invalid': ['动态验证码错误、已过期或已使用过，请输入应用中当前显示的新验证码。', 'The code is wrong, expired or already used; enter the new code the app shows now.'],
  'err.totp_enrolment_required': ['请先绑定身份验证器应用（动态验证码）后再使用本系统。', 'Set up your authenticator app (one-time codes) before using the system.'],
  'err.session_expired': ['长时间未操作，登录已失效，请重新登录。', 'You were inactive for too long; please sign in again.'],
  'err.password_too_weak': ['密码须为 12 至 128 个字符，且不能是常见或已泄露的密码。', 'A password has 12 to 128 characters and must not be a common or leaked password.'],
  'login.totp': ['动态验证码', 'One-time code'],
  'login.totpHint': ['请输入身份验证器应用中显示的 6 位数字。', 'The 6 digits your authenticator app shows.'],
  'err.badge_taken': ['该警号已被注册。', 'This badge number is already registered.'],
  'err.ws_replaced': ['您已在其他页面或设备上进入视频，本页已断开。', 'You joined the video from another page or device; this one was disconnected.'],
  'err.hearing_closed': ['本次办理已结束。', 'This hearing has ended.'],
  'err.room_closed': ['本次视频已结束。', 'The call is over.'],
  'err.bad_frame': ['通话信令出错，正在重试。', 'A signalling error occurred; retrying.'],
  'err.too_early': ['现在还不能记为爽约：预约时段开始 {minutes} 分钟后才能记录。', 'Too early to record a no-show: wait {minutes} minutes after the slot starts.'],
  'err.code_not_sent': ['尚未向当事人发送验证码：发送验证码并等待 10 分钟后才能记为爽约。', 'No join code was sent: send the code and wait 10 minutes before recording a no-show.'],
  'err.code_sent_too_recently': ['验证码发送不足 10 分钟，还需等待 {minutes_left} 分钟才能记为爽约。', 'The code went out less than 10 minutes ago: wait {minutes_left} more minute(s) before recording a no-show.'],
  'err.code_sent_too_recently.plain': ['验证码发送不足 10 分钟，暂不能记为爽约。', 'The code went out less than 10 minutes ago; a no-show cannot be recorded yet.'],
  'err.hearing_not_opened': ['未开启办理的预约不能记为爽约：请开启办理并发送验证码。', 'A booking whose hearing was not opened cannot be a no-show: open the hearing and send the code.'],
  'err.resume_day_passed': ['只能在中断当天继续办理（{interrupted_on}），请当事人重新预约。', 'A hearing resumes only on the day it was interrupted ({interrupted_on}); the citizen books again.'],
  'err.resume_day_passed.plain': ['只能在中断当天继续办理，请当事人重新预约。', 'A hearing resumes only on the day it was interrupted; the citizen books again.'],
  'err.citizen_rebooked': ['当事人已重新预约，请办理新的预约。', 'The citizen has booked again: hear the new booking.'],
  'err.date_has_bookings': ['该日期仍有预约，请先逐一改期或取消。', 'The date still has bookings: move or cancel each first.'],
  'err.after_deadline': ['新时段晚于加急预约的截止时间。', 'The new slot ends after the urgent booking’s deadline.'],
  'err.too_early.plain': ['现在还不能记为爽约：预约时段开始并等待规定时间后才能记录。', 'Too early to record a no-show: wait until the set time after the slot starts.'],
  'err.hearing_exists': ['该预约已开启办理。', 'This booking already has an open hearing.'],
  'err.outside_hearing_window': ['未到办理时间：可在时段开始前 {minutes} 分钟至时段结束之间开启；加急预约须先领取。', 'Not the time for this hearing: it opens from {minutes} minutes before the slot to its end; claim an urgent booking first.'],
  'err.outside_hearing_window.plain': ['未到办理时间：可在时段开始前至时段结束之间开启；加急预约须先领取。', 'Not the time for this hearing: it opens shortly before the slot until its end; claim an urgent booking first.'],
  'err.not_your_hearing': ['该办理由其他民警负责。', 'Another officer holds this hearing.'],
  'err.e_service_consent_missing': ['当事人未同意电子送达，不能电子送达处罚决定书。', 'The citizen did not consent to electronic service.'],
  'err.phone_in_use': ['该手机号已绑定其他用户。', 'This phone number is bound to another user.'],
  'err.grace_expired': ['重连超时，请重新输入验证码进入。', 'Reconnecting took too long; enter a new code to join again.'],
  'err.forbidden': ['您没有权限进行此操作。', 'You are not allowed to do this.'],
  'err.not_found': ['未找到相关记录。', 'Not found.'],
  'err.too_large': ['内容太大。', 'The content is too large.'],
  'err.throttled': ['操作过于频繁，请稍后再试。', 'Too many requests; please wait a moment.'],
  'err.unavailable': ['服务暂时不可用，请稍后再试。', 'The service is temporarily unavailable.'],
  'err.storage_unavailable': ['服务器暂时无法保存记录，本次操作未保存，请稍后重试。', 'The server cannot store records right now; nothing was saved. Please try again later.'],
  'err.internal': ['服务器出错，请稍后再试。', 'Server error; please try again later.'],
  'err.hearing_not_open': ['办理尚未开始或已结束。', 'The hearing is not open.'],
  'err.hearing_window': ['还未到可开启办理的时间（时段开始前 {minutes} 分钟起）。', 'Too early to open this hearing (from {minutes} minutes before the slot).'],
  'err.hearing_window.plain': ['还未到可开启办理的时间。', 'Too early to open this hearing.'],
  'err.signature_invalid': ['签名无效，请重新签名。', 'The signature is not valid; please sign again.'],
  'err.signature_reused': ['每一步都需要重新签名。', 'Each step needs its own signature; please sign again.'],
  'err.correction_limit': ['笔录更正次数已达上限，请与民警沟通。', 'The transcript cannot be corrected again; please talk to the officer.'],
  'err.join_token_invalid': ['入会凭证已失效，请重新输入验证码。', 'The join pass is no longer valid. Enter a new code.'],
  // by HTTP status, when the code is unknown
  'err.http.400': ['请求格式不正确。', 'The request was malformed.'],
  'err.http.401': ['请先登录，或登录已失效。', 'Please sign in (or sign in again).'],
  'err.http.403': ['您没有权限进行此操作。', 'You are not allowed to do this.'],
  'err.http.404': ['未找到相关记录。', 'Not found.'],
  'err.http.409': ['与当前状态或规则冲突。', 'This conflicts with the current state or a rule.'],
  'err.http.413': ['内容太大。', 'The content is too large.'],
  'err.http.422': ['填写的内容不符合要求。', 'Some of the input is not valid.'],
  'err.http.429': ['操作过于频繁，请稍后再试。', 'Too many requests; please wait a moment.'],
  'err.http.500': ['服务器出错，请稍后再试。', 'Server error; please try again later.'],
  'err.http.503': ['服务暂时不可用，请稍后再试。', 'The service is temporarily unavailable.'],
  // field names used in 422 answers
  'field.phone': ['手机号', 'Phone number'],
  'field.code': ['验证码', 'Code'],
  'field.plate': ['号牌号码', 'Plate number'],
  'field.record_no': ['违法记录编号', 'Violation record number'],
  'field.violations': ['违法记录', 'Violations'],
  'field.fine_yuan': ['罚款金额', 'Fine'],
  'field.points': ['记分', 'Points'],
  'field.unhandled_count': ['未处理违法数', 'Unhandled violations'],
  'field.current_points': ['当前累计记分', 'Current points'],
  'field.slot_start': ['预约时段', 'Time slot'],
  'field.brigade_id': ['交警大队', 'Brigade'],
  'field.registration_date': ['登记日期', 'Registration date'],
  'field.urgent': ['加急信息', 'Urgent details'],
  'field.badge': ['警号', 'Badge number'],
  'field.password': ['密码', 'Password'],
  'field.transcript': ['询问笔录', 'Transcript'],
  'field.facts': ['违法事实', 'Facts'],
  'field.legal_basis': ['法律依据', 'Legal basis'],
  'field.proposed_fine_yuan': ['拟罚款', 'Proposed fine'],
  'field.proposed_points': ['拟记分', 'Proposed points'],
  'field.text': ['陈述内容', 'Statement'],
  'field.step': ['步骤', 'Step'],
  'field.hearing_id': ['办理编号', 'Hearing number'],
  'field.booking_id': ['预约编号', 'Booking'],
});
