// Helpers for the browser tests: Chromium, one browser context per person, sign-in, screenshots,
// the watch for CSP violations and script errors, and a few calls to the API for set-up.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO = {
  sam: 'sam.okafor@demo.wardline.nhs.uk', // admin
  priya: 'priya.shah@demo.wardline.nhs.uk',
  tom: 'tom.hughes@demo.wardline.nhs.uk',
  grace: 'grace.mensah@demo.wardline.nhs.uk',
  owen: 'owen.jones@demo.wardline.nhs.uk',
};

export const PHONE = { width: 360, height: 740 };
export const WARD_PC = { width: 1920, height: 1080 };
export const LAPTOP = { width: 1280, height: 800 };

/**
 * Where Chromium is, or null: WARDLINE_CHROMIUM when set (and only it), else Debian's
 * /usr/bin/chromium. Never a browser of playwright's own: nothing here downloads one.
 */
export function chromiumPath() {
  const candidates = process.env.WARDLINE_CHROMIUM ? [process.env.WARDLINE_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** What run.mjs hands every spec: the server's URL, the demo password, the screenshot folder. */
export function env() {
  const url = process.env.WARDLINE_E2E_URL;
  const password = process.env.WARDLINE_E2E_PASSWORD;
  const screenshots = process.env.WARDLINE_E2E_SCREENSHOTS;
  if (!url || !password || !screenshots) throw new Error('run the specs through e2e/run.mjs, which starts the server');
  return { url, password, screenshots };
}

export async function launch() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath() ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const NETWORK_NOISE = [
  // The app asks GET /me to learn whether a session exists; signed out, that answers 401.
  /Failed to load resource: the server responded with a status of 401/,
];

/**
 * A person at their own browser: a fresh context (own cookies and storage) and one page, with a
 * watch on everything the console and the page report. `problems()` lists CSP violations, script
 * errors and unexpected console errors; `allow(re)` accepts console errors a test causes on purpose.
 */
export async function person(browser, name, { viewport = LAPTOP } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/London' });
  context.setDefaultTimeout(10_000);
  const problems = [];
  const allowed = [...NETWORK_NOISE];
  // Violations reported by the page itself, besides the console line Chromium prints.
  await context.exposeBinding('__wardlineCspViolation', ({ page }, v) => {
    problems.push(`CSP violation on ${page.url()}: ${v.directive} blocked ${v.blocked || '(inline)'} ${v.sample || ''}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // @ts-ignore the binding exposed above
      window.__wardlineCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) problems.push(`CSP (console) on ${page.url()}: ${text}`);
    else if (m.type() === 'error' && !allowed.some((re) => re.test(text))) problems.push(`console error on ${page.url()}: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
  return {
    name,
    context,
    page,
    allow: (re) => allowed.push(re),
    problems: () => [...problems],
    assertClean() {
      assert.deepEqual(problems, [], `${name}'s browser reported problems`);
    },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(env().screenshots, `${name}.png`), fullPage: true });
}

/** Signs in through the sign-in screen and waits for the conversation list. */
export async function signIn(page, email, password = env().password) {
  await page.goto(env().url + '/');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
  await online(page);
}

/** Waits until the event stream says it is online (resumed and live). */
export async function online(page) {
  await page.locator('.app-connection--online').waitFor();
}

/** Polls fn until it returns a truthy value; fails with the last value after timeout ms. */
export async function eventually(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${message}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** The bodies of the messages shown in the open conversation, top to bottom. */
export async function shownBodies(page) {
  return page.locator('.app-message-list > li:not(.app-message--pending) .app-message__body').allInnerTexts();
}

/** Sends a message through the composer of the open conversation and waits until it is stored. */
export async function send(page, text, { priority } = {}) {
  if (priority) await page.getByLabel(priority[0].toUpperCase() + priority.slice(1), { exact: true }).check();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: /^Send/ }).click();
  await page.locator('.app-message-list > li:not(.app-message--pending)', { hasText: text }).waitFor();
}

/** The status line (ticks) of my own message with this text. */
export function statusOf(page, text) {
  return page.locator('.app-message--mine', { hasText: text }).locator('.app-message__status');
}

// ---- The API, for set-up that is not what a test is about --------------------------------------

export async function api(token, method, path, body) {
  const res = await fetch(env().url + '/api/v1' + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return json;
}

/** Signs in over the API (bearer token, no cookie) and returns the token. */
export async function apiLogin(email, password = env().password) {
  const res = await fetch(env().url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

let staffCount = 0;

/**
 * The admin creates a member of staff; unless `keepInitial`, the new person has already changed
 * the initial password (over the API), so that a test can sign them in directly.
 */
export async function newStaff(adminToken, { name, jobTitle = 'Staff Nurse', keepInitial = false }) {
  const email = `${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${Date.now().toString(36)}${staffCount++}@demo.wardline.nhs.uk`;
  const created = await api(adminToken, 'POST', '/admin/users', {
    email,
    display_name: name,
    job_title: jobTitle,
    profession: 'Nursing',
    registration: '',
    org_role: 'member',
  });
  if (keepInitial) return { id: created.user.id, email, password: created.initial_password };
  const password = `e2e-${Math.random().toString(36).slice(2)}-password`;
  const login = await apiLogin(email, created.initial_password);
  await api(login.token, 'POST', '/me/password', { current_password: created.initial_password, new_password: password });
  return { id: created.user.id, email, password };
}

/** A short unique suffix, so that names made by one run never collide. */
export function unique() {
  return Math.random().toString(36).slice(2, 7);
}
