/**
 * The booking reminder as a WeChat subscription message (订阅消息): the citizen is asked when
 * they submit a booking (the tap is the user gesture WeChat requires), and an `accept` is told
 * to the server (`POST bookings/{id}/wechat-reminder`) once the booking exists; otherwise the
 * reminder goes by SMS.
 */
import { api } from './api';
import { REMINDER_TEMPLATE_ID } from './config';

/** Asks for the one-time permission; resolves true on `accept`. Call it inside the tap. */
export function askReminder(): Promise<boolean> {
  if (!REMINDER_TEMPLATE_ID || typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve(false);
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: [REMINDER_TEMPLATE_ID],
      success: (r) => resolve((r as unknown as Record<string, string>)[REMINDER_TEMPLATE_ID] === 'accept'),
      fail: () => resolve(false),
    });
  });
}

/** Tells the server the booking's reminder may go through WeChat; false when it could not. */
export async function useWechatReminder(bookingId: string): Promise<boolean> {
  try {
    await api.post(`bookings/${encodeURIComponent(bookingId)}/wechat-reminder`, {});
    return true;
  } catch {
    return false;
  }
}
