// Erasing what this browser holds when a session ends. The app keeps message content only in
// memory, so this clears web storage for good measure and then reloads the page, which drops
// every JavaScript object the signed-in app held.

export function eraseWebStorage(): void {
  for (const storage of [globalThis.localStorage, globalThis.sessionStorage]) {
    try {
      storage?.clear();
    } catch {
      // storage may be disabled; there is then nothing in it either
    }
  }
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

export function eraseAndReload(reason: string): void {
  eraseWebStorage();
  reload(signInUrl(reason));
}
