// Registers public/sw.js, which caches the app shell only (never /api).
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      // Without the worker the app still works; it just is not installable offline.
    });
  });
}
