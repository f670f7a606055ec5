// Erasing what this browser holds when a session ends. The app keeps message content only in
// memory, so this clears web storage and IndexedDB for good measure and then reloads the page,
// which drops every JavaScript object the signed-in app held. (The service worker's cache holds
// the app shell only, never an /api answer, so it stays: the sign-in page needs it offline.)

export function eraseWebStorage(): void {
  for (const storage of [globalThis.localStorage, globalThis.sessionStorage]) {
    try {
      storage?.clear();
    } catch {
      // storage may be disabled; there is then nothing in it either
    }
  }
}

/**
 * Deletes every IndexedDB database of this origin. The app keeps none, but whatever a page
 * might have left there must not outlive the session. Bounded in time: a reload must not wait
 * on a browser that never answers.
 */
export async function eraseIndexedDb(timeoutMs = 1000): Promise<void> {
  const idb = globalThis.indexedDB;
  if (!idb || typeof idb.databases !== 'function') return;
  const work = (async () => {
    const dbs = await idb.databases();
    await Promise.all(
      dbs.map(
        (db) =>
          new Promise<void>((resolve) => {
            if (!db.name) return resolve();
            const req = idb.deleteDatabase(db.name);
            req.onsuccess = req.onerror = req.onblocked = () => resolve();
          }),
      ),
    );
  })().catch(() => undefined);
  await Promise.race([work, new Promise((r) => setTimeout(r, timeoutMs))]);
}

/** Where the page goes after erasing; a reason shows the matching notice on the sign-in screen. */
export function signInUrl(reason: string): string {
  return `/signin?ended=${encodeURIComponent(reason)}`;
}

let reload = (url: string) => window.location.replace(url);

/** Tests replace the page reload, which jsdom does not implement. */
export function setReloadForTests(fn: (url: string) => void): void {
  reload = fn;
}

export function eraseAndReload(reason: string): Promise<void> {
  eraseWebStorage();
  return eraseIndexedDb().then(() => reload(signInUrl(reason)));
}
