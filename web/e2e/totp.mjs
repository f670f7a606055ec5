// TOTP for the browser tests. The demo organisation requires a second factor, so every sign-in
// (browser or API) takes a 6-digit code: RFC 6238, HMAC-SHA-1, 30-second steps, computed here with
// node:crypto from the secrets `serve --demo` wrote to DATA_DIR/demo-credentials.txt.
//
// The server accepts the previous, current and next step, but never a step at or before the last
// one it accepted for that person. Spec files run one after another in separate processes, so the
// last step used per person is kept in a file in the server's data directory, and a sign-in that
// has used up the steps on offer waits for the next one (at most 30 s; tests keep one API token and
// one browser sign-in per person where they can).
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, env, online } from './lib.mjs';

const STEP_SECONDS = 30;

function dataDir() {
  const dir = process.env.WARDLINE_E2E_DATA_DIR;
  if (!dir) throw new Error('WARDLINE_E2E_DATA_DIR is not set: run the specs through e2e/run.mjs');
  return dir;
}

/** RFC 4648 base32 (no padding needed) to bytes. */
export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP, 6 digits. */
export function hotp(secret, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);

// ---- Secrets: the demo users' from the credentials file, and any a test enrolled itself ----------

const enrolled = new Map();

/** Every demo user's TOTP secret, by email address. */
export function demoSecrets() {
  const text = readFileSync(join(dataDir(), 'demo-credentials.txt'), 'utf8');
  const out = new Map();
  for (const m of text.matchAll(/^\s*(\S+@\S+)\s.*TOTP secret (\S+)\s*$/gm)) out.set(m[1], m[2]);
  return out;
}

function secretOf(email) {
  const s = enrolled.get(email) ?? demoSecrets().get(email);
  if (!s) throw new Error(`no TOTP secret known for ${email}`);
  return s;
}

// ---- Steps already used, shared by the spec processes through a file ----------------------------

const stepsFile = () => join(dataDir(), 'e2e-totp-steps.json');

function usedSteps() {
  return existsSync(stepsFile()) ? JSON.parse(readFileSync(stepsFile(), 'utf8')) : {};
}

/** A code the server will accept for email now (waits for a fresh step when it must). */
export async function freshCode(email) {
  const secret = secretOf(email);
  const last = usedSteps()[email] ?? 0;
  let cur = currentStep();
  const step = Math.max(cur, last + 1);
  // The server takes the next step too, but no further: wait until step is at most cur + 1.
  if (step > cur + 1) {
    const waitMs = (step - 1) * STEP_SECONDS * 1000 - Date.now() + 250;
    await new Promise((r) => setTimeout(r, Math.max(0, waitMs)));
    cur = currentStep();
  }
  const all = usedSteps();
  all[email] = step;
  writeFileSync(stepsFile(), JSON.stringify(all));
  return hotp(secret, step);
}

// ---- Signing in ---------------------------------------------------------------------------------

/** Signs in through the sign-in screen, second factor included, and waits for the live list. */
export async function signInTotp(page, email, password = env().password) {
  await page.goto(env().url + '/');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Security code').fill(await freshCode(email));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
  await online(page);
}

async function post(path, body) {
  const res = await fetch(env().url + '/api/v1' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

/** Signs in over the API (bearer token), with the second factor; returns the login answer. */
export async function apiLoginTotp(email, password = env().password) {
  const first = await post('/auth/login', { email, password });
  if (first.status === 200) return first.json;
  if (first.status !== 401 || first.json?.error?.code !== 'mfa_required') {
    throw new Error(`login ${email}: ${first.status} ${JSON.stringify(first.json)}`);
  }
  const second = await post('/auth/mfa/totp', { mfa_token: first.json.mfa_token, code: await freshCode(email) });
  if (second.status !== 200) throw new Error(`TOTP for ${email}: ${second.status} ${JSON.stringify(second.json)}`);
  return second.json;
}

let staffCount = 0;

/**
 * The admin creates a member of staff who then changes the initial password and enrols an
 * authenticator app over the API, as the organisation requires. Returns { id, email, password,
 * token } (token: a full session of theirs); later sign-ins use freshCode as for demo users.
 */
export async function newStaffTotp(adminToken, { name, jobTitle = 'Staff Nurse', profession = 'Nursing', orgRole = 'member' }) {
  const email = `${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${Date.now().toString(36)}${staffCount++}@demo.wardline.nhs.uk`;
  const created = await api(adminToken, 'POST', '/admin/users', {
    email,
    display_name: name,
    job_title: jobTitle,
    profession,
    registration: '',
    org_role: orgRole,
  });
  const password = `e2e-${Math.random().toString(36).slice(2)}-password`;
  const first = await post('/auth/login', { email, password: created.initial_password });
  if (first.status !== 200) throw new Error(`first login ${email}: ${first.status} ${JSON.stringify(first.json)}`);
  await api(first.json.token, 'POST', '/me/password', { current_password: created.initial_password, new_password: password });
  const login = await post('/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login ${email}: ${login.status} ${JSON.stringify(login.json)}`);
  const token = login.json.token;
  const { secret } = await api(token, 'POST', '/me/totp');
  enrolled.set(email, secret);
  await api(token, 'POST', '/me/totp/confirm', { code: await freshCode(email) });
  return { id: created.user.id, email, password, token };
}
