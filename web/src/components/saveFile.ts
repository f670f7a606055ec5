// Hands a downloaded file to the browser to save: an object URL (memory only), a click on a
// download link, and the URL revoked straight after. Nothing goes through web storage.
import type { DownloadedFile } from '../api/client';

export function saveFile({ blob, filename }: DownloadedFile): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
