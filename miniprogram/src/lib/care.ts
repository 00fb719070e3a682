/**
 * 关怀模式 (large text): on when WeChat's own font size is enlarged (the care mode and the
 * 「字体大小」 setting raise fontSizeSetting / fontSizeScaleFactor) or when the citizen turned
 * the switch on in the mini program (remembered per device). Pages put the `care` class on
 * their root; app.wxss gives it body text ≥ 18 px, 30 px headings and 60 px tap targets.
 */
import { KEYS } from './config';

/** WeChat's default font size in px; anything larger means the citizen asked for bigger text. */
const NORMAL_FONT_PX = 17;

/** Whether WeChat itself shows enlarged text. */
export function systemLargeText(): boolean {
  try {
    if (typeof wx.getAppBaseInfo === 'function') {
      const info = wx.getAppBaseInfo();
      if (typeof info.fontSizeScaleFactor === 'number' && info.fontSizeScaleFactor > 1) return true;
      if (typeof info.fontSizeSetting === 'number') return info.fontSizeSetting > NORMAL_FONT_PX;
    }
    const sys = wx.getSystemInfoSync();
    return typeof sys.fontSizeSetting === 'number' && sys.fontSizeSetting > NORMAL_FONT_PX;
  } catch {
    return false;
  }
}

/** The citizen's own choice: true, false, or null (follow WeChat). */
export function careChoice(): boolean | null {
  const v = wx.getStorageSync(KEYS.care);
  return v === 'on' ? true : v === 'off' ? false : null;
}

export function careMode(): boolean {
  const choice = careChoice();
  return choice === null ? systemLargeText() : choice;
}

export function setCare(on: boolean): void {
  wx.setStorageSync(KEYS.care, on ? 'on' : 'off');
}
