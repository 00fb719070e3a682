/**
 * The citizen's documents: downloaded with the session in the Authorization header (never in
 * the URL), then opened (PDF) or handed to WeChat's file sharing (the JSON proof file, which the
 * proof-check page verifies on a computer).
 */
import { ApiError, authHeader } from './api';
import { API_BASE } from './config';

/** Downloads `/api/v1/<path>` into `filePath` (or a temp file); resolves the local path. */
export function download(path: string, filePath?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.downloadFile({
      url: `${API_BASE}/${path}`,
      header: authHeader(),
      filePath,
      success: (r) => {
        if (r.statusCode >= 200 && r.statusCode < 300) resolve(r.filePath || r.tempFilePath);
        else reject(new ApiError(r.statusCode, '', `HTTP ${r.statusCode}`));
      },
      fail: (e) => reject(new ApiError(0, 'network', e.errMsg)),
    });
  });
}

export function openPdf(filePath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    wx.openDocument({ filePath, fileType: 'pdf', showMenu: true, success: () => resolve(), fail: (e) => reject(new Error(e.errMsg)) });
  });
}

/** Sends a saved file to a chat (the citizen's own 文件传输助手 works too). */
export function shareFile(filePath: string, fileName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    wx.shareFileMessage({ filePath, fileName, success: () => resolve(), fail: (e) => reject(new Error(e.errMsg)) });
  });
}
