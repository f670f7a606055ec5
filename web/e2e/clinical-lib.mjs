// Helpers shared by the clinical and IG browser specs: request recording (patient identifiers must
// never be in a URL), a count of alert tones played, storage checks, layout and keyboard checks,
// and valid NHS numbers made up per run.
import assert from 'node:assert/strict';

/** Records every URL the page's context requests (documents, fetches, WebSocket, assets). */
export function recordRequests(context) {
  const urls = [];
  context.on('request', (r) => urls.push(r.url()));
  context.on('websocket', (ws) => urls.push(ws.url()));
  return urls;
}

/** Fails when any recorded URL (or the current address) holds one of the secrets, in any spacing. */
export async function assertNotInUrls(urls, page, secrets) {
  const all = [...urls, page.url(), ...(await page.evaluate(() => [location.href, document.referrer]))];
  for (const s of secrets) {
    const variants = [s, s.replace(/\s+/g, ''), encodeURIComponent(s), s.replace(/\s+/g, '+')];
    for (const u of all) {
      const decoded = (() => {
        try {
          return decodeURIComponent(u);
        } catch {
          return u;
        }
      })();
      for (const v of variants) assert.ok(!u.includes(v) && !decoded.includes(v), `"${s}" appears in a requested URL: ${u}`);
    }
  }
}

/** Nothing in web storage or IndexedDB, and none of the secrets in the page's storage at all. */
export async function assertNothingStored(page) {
  const stored = await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    idb: (await indexedDB.databases?.())?.length ?? 0,
  }));
  assert.deepEqual(stored, { local: 0, session: 0, idb: 0 }, 'nothing in web storage');
}

/**
 * Counts the alert tones the app plays: wraps AudioContext so that every oscillator started is
 * counted in window.__wardlineTones (per page). Call before the first navigation.
 */
export async function countTones(context) {
  await context.addInitScript(() => {
    // @ts-ignore test instrumentation
    window.__wardlineTones = 0;
    const Real = window.AudioContext;
    if (!Real) return;
    window.AudioContext = class extends Real {
      createOscillator() {
        const osc = super.createOscillator();
        const start = osc.start.bind(osc);
        osc.start = (...a) => {
          // @ts-ignore
          window.__wardlineTones++;
          return start(...a);
        };
        return osc;
      }
    };
  });
}

export const tones = (page) => page.evaluate(() => window.__wardlineTones ?? 0);

/** A valid NHS number (Modulus 11), different each call: 9 random digits and their check digit. */
export function newNhsNumber() {
  for (;;) {
    const nine = String(100000000 + Math.floor(Math.random() * 800000000));
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return nine + (check === 11 ? 0 : check);
  }
}

export const spaced = (n) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;

export async function noSidewaysScroll(page, where) {
  const { scroll, width, widest } = await page.evaluate(() => {
    const width = window.innerWidth;
    const out = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 1 && el.children.length === 0);
    return {
      scroll: document.documentElement.scrollWidth,
      width,
      widest: out.slice(0, 3).map((el) => `<${el.tagName.toLowerCase()} class="${el.className}">${(el.textContent ?? '').slice(0, 40)}`),
    };
  });
  assert.ok(scroll <= width, `${where}: the page is ${scroll} px wide in a ${width} px window; sticking out: ${widest.join(', ')}`);
}

/** Presses Tab until the focused element satisfies `is` (run in the page); fails after max. */
export async function tabTo(page, what, is, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(is)) return i + 1;
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  assert.fail(`${what} not reached with ${max} presses of Tab; focus is on ${at}`);
}

/** The focused element shows where focus is (NHS.UK: yellow outline or box shadow). */
export async function focusVisible(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const s = getComputedStyle(el);
    return (s.outlineStyle !== 'none' && s.outlineWidth !== '0px') || s.boxShadow !== 'none';
  });
}
