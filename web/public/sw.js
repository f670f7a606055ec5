// Wardline's service worker. It caches the app shell only: the page (index.html), the hashed
// files under /assets/, the manifest and icons. It never caches /api responses or anything else
// that could hold message content or patient data, and it never answers /api from a cache.
'use strict';

const CACHE = 'wardline-shell-v1';
const SHELL = '/'; // the server answers index.html here

function isShellAsset(url) {
  return url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/') || url.pathname === '/manifest.webmanifest';
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([SHELL, '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png']))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('wardline-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// After a fresh index.html, drop hashed assets that the new page no longer references.
async function pruneAssets(html) {
  const wanted = new Set(html.match(/\/assets\/[^"'\s)]+/g) || []);
  const cache = await caches.open(CACHE);
  for (const req of await cache.keys()) {
    const path = new URL(req.url).pathname;
    if (path.startsWith('/assets/') && !wanted.has(path)) await cache.delete(req);
  }
}

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    const type = res.headers.get('Content-Type') || '';
    if (res.ok && type.startsWith('text/html')) {
      await cache.put(SHELL, res.clone());
      res.clone().text().then(pruneAssets).catch(() => undefined);
    }
    return res;
  } catch (err) {
    const cached = await cache.match(SHELL);
    if (cached) return cached;
    throw err;
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const res = await fetch(request);
  if (res.ok) await cache.put(request, res.clone());
  return res;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz' || url.pathname === '/readyz') return;
  if (request.mode === 'navigate') event.respondWith(page(request));
  else if (isShellAsset(url)) event.respondWith(asset(request));
});
