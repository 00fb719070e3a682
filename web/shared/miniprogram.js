// The H5 page inside the WeChat mini program's web-view (issue 19 §1): when the citizen's call is
// over (the hearing closed or was interrupted), the page goes back to the mini program, whose
// hearing page shows the outcome and the served decision. `wx.miniProgram` comes from WeChat's
// JS-SDK, loaded only inside a mini program web-view (its user agent says `miniProgram`) from the
// one origin the page's Content-Security-Policy allows besides its own.
const JSSDK = 'https://res.wx.qq.com/open/js/jweixin-1.6.0.js';

/** True inside the mini program's web-view. */
export function inMiniProgram() {
  return /miniProgram/i.test(navigator.userAgent || '') || window.__wxjs_environment === 'miniprogram';
}

let loading = null;
function sdk() {
  if (window.wx?.miniProgram) return Promise.resolve(window.wx);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = JSSDK;
      s.onload = () => (window.wx?.miniProgram ? resolve(window.wx) : reject(new Error('no wx.miniProgram')));
      s.onerror = () => reject(new Error('the WeChat JS-SDK did not load'));
      document.head.append(s);
    });
    loading.catch(() => (loading = null));
  }
  return loading;
}

const returned = new Set();

/** Back to the mini program once per hearing (`key`); false outside it or when it failed. */
export async function returnToMiniProgram(key) {
  if (!inMiniProgram() || returned.has(key)) return false;
  try {
    const wx = await sdk();
    returned.add(key);
    wx.miniProgram.navigateBack({ delta: 1 });
    return true;
  } catch {
    return false;
  }
}
