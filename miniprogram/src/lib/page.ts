/**
 * What every page shows the same way: the strings of the current language (`s`), the 关怀模式
 * class (`care`), the title, toasts and the wording of errors.
 */
import { careMode } from './care';
import { errorText } from './api';
import { getLang, t, table } from './i18n';

export interface Locale {
  s: Record<string, string>;
  care: boolean;
  lang: string;
}

/** The page data that follows the language and the text size; sets the title from `titleKey`. */
export function locale(titleKey?: string): Locale {
  if (titleKey) wx.setNavigationBarTitle({ title: t(titleKey) });
  return { s: table(), care: careMode(), lang: getLang() };
}

export function toast(key: string): void {
  wx.showToast({ title: t(key), icon: 'success' });
}

/** Asks before an irreversible act; resolves true on 确定. */
export function confirm(key: string): Promise<boolean> {
  return new Promise((resolve) => {
    wx.showModal({
      content: t(key),
      confirmText: t('common.yes'),
      cancelText: t('common.no'),
      success: (r) => resolve(!!r.confirm),
      fail: () => resolve(false),
    });
  });
}

export { errorText };
