// Helpers for the browser tests: Chromium, one browser context per person, sign-in, screenshots,
// the watch for CSP violations and script errors, and a few calls to the API for set-up.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * What run.mjs hands every spec: the server's URL (and the same with localhost, the passkeys'
 * relying party), the demo password, the screenshot folder, the demo users' TOTP secrets, the
 * file that remembers the last TOTP step each user spent, and an admin's API token.
 */
export function env() {
  const url = process.env.WARDLINE_E2E_URL;
  const password = process.env.WARDLINE_E2E_PASSWORD;
  const screenshots = process.env.WARDLINE_E2E_SCREENSHOTS;
  const secrets = process.env.WARDLINE_E2E_TOTP_SECRETS;
  const totpState = process.env.WARDLINE_E2E_TOTP_STATE;
  if (!url || !password || !screenshots || !secrets || !totpState) throw new Error('run the specs through e2e/run.mjs, which starts the server');
  return {
    url,
    localhostUrl: url.replace('://127.0.0.1:', '://localhost:'),
    password,
    screenshots,
    secrets: JSON.parse(secrets),
    totpState,
    adminToken: process.env.WARDLINE_E2E_ADMIN_TOKEN ?? '',
    binary: process.env.WARDLINE_E2E_BINARY ?? '',
    dataDir: process.env.WARDLINE_E2E_DATA_DIR ?? '',
  };
}

// ---- TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), as an authenticator app computes it ------

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code of a base32 secret for a 30-second step (counter). */
export function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0x0f;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}


// Secrets of staff made by this process (the demo users' come from run.mjs).
const staffSecrets = {};

export function secretOf(email) {
  const s = staffSecrets[email] ?? env().secrets[email];
  if (!s) throw new Error(`no TOTP secret known for ${email}`);
  return s;
}

/**
 * A TOTP code for email that the server has not seen. The server takes the codes of the steps one
 * either side of now, but never a step at or before the last one it took from that user. So: the
 * oldest step still good for at least 5 more seconds and after the last one spent, waiting for
 * time to move on only when a user signs in more than about three times in 30 seconds. The last
 * step per user is kept in a file shared by every spec of the run (they run one after another).
 */
export async function nextTotp(email, secret = secretOf(email)) {
  const file = env().totpState;
  const state = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8') || '{}') : {};
  const last = state[email] ?? 0;
  const now = Date.now();
  let step = Math.max(last + 1, Math.floor(now / 30_000) - 1);
  // A step is taken until the end of the step after it.
  if ((step + 2) * 30_000 - now < 5_000) step = Math.max(step, Math.floor(now / 30_000));
  // ...and from the start of the step before it (plus a second's margin).
  const from = (step - 1) * 30_000 + 1_000;
  if (Date.now() < from) await new Promise((r) => setTimeout(r, from - Date.now()));
  state[email] = step;
  writeFileSync(file, JSON.stringify(state));
  return totpAt(secret, step);
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
      // localhost (the passkeys' relying party) is the server's 127.0.0.1, never ::1.
      '--host-resolver-rules=MAP localhost 127.0.0.1',
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

/**
 * Signs in through the sign-in screen (password, then the TOTP code computed here as the phone
 * would) and waits for the conversation list. `base` is the origin to use (default: the server's
 * 127.0.0.1 URL; the passkey spec uses localhost).
 */
export async function signIn(page, email, password = env().password, { base = env().url } = {}) {
  await page.goto(base + '/');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
  await page.getByLabel('Security code').fill(await nextTotp(email));
  await page.getByRole('button', { name: 'Continue' }).click();
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

async function post(path, body) {
  const res = await fetch(env().url + '/api/v1' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { res, json: await res.json() };
}

/**
 * Signs in over the API (bearer token, no cookie) and returns the login answer: with the TOTP
 * code when the account asks for one; a restricted answer (password change or enrolment first)
 * as it comes.
 */
export async function apiLogin(email, password = env().password) {
  let { res, json } = await post('/auth/login', { email, password });
  if (res.status === 401 && json.error?.code === 'mfa_required') {
    ({ res, json } = await post('/auth/mfa/totp', { mfa_token: json.mfa_token, code: await nextTotp(email) }));
  }
  if (!res.ok) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** An admin's bearer token: the one run.mjs made for the whole run, so that specs spare Sam's codes. */
export async function adminToken() {
  return env().adminToken || (await apiLogin(DEMO.sam)).token;
}

let staffCount = 0;

/**
 * The admin creates a member of staff; unless `keepInitial`, the new person has already changed
 * the initial password and set up an authenticator app (over the API, the secret kept here for
 * nextTotp), so that a test can sign them in directly.
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
  // Signed in again with the new password: the organisation requires a second factor, so the
  // session may only enrol one.
  const again = await apiLogin(email, password);
  const { secret } = await api(again.token, 'POST', '/me/totp');
  staffSecrets[email] = secret;
  await api(again.token, 'POST', '/me/totp/confirm', { code: await nextTotp(email) });
  return { id: created.user.id, email, password, secret };
}

/** Remembers the TOTP secret of someone who enrolled in a test (through the app's screens). */
export function rememberSecret(email, secret) {
  staffSecrets[email] = secret;
}

/** A short unique suffix, so that names made by one run never collide. */
export function unique() {
  return Math.random().toString(36).slice(2, 7);
}
