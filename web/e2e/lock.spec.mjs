// The screen lock: after the organisation's idle time (set to its minimum, 10 s, for this spec
// only) the app locks itself, takes every piece of content out of the DOM, tells the server (which
// then answers 423), and unlocks with the PIN; five wrong PINs sign out and wipe the browser.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminToken, api, launch, newStaff, online, person, shot, signIn, unique } from './lib.mjs';

const IDLE_SECONDS = 10; // the shortest the policy allows
const PIN = '482916';

describe('screen lock', () => {
  let browser, admin, staff, conv, secret, kai;

  before(async () => {
    browser = await launch();
    admin = await adminToken();
    await api(admin, 'PATCH', '/admin/policy', { lock_idle_seconds: IDLE_SECONDS });
    staff = await newStaff(admin, { name: 'Kai Osei', jobTitle: 'Charge Nurse' });
    secret = `Bay 3 bed 2 potassium 6.1 recheck ${unique()}`;
    conv = await api(admin, 'POST', '/conversations', { kind: 'group', title: `Night handover ${unique()}`, member_ids: [staff.id] });
    await api(admin, 'POST', `/conversations/${conv.id}/messages`, { client_id: crypto.randomUUID(), body: secret, priority: 'routine' });
  });
  after(async () => {
    // Back to the default (the policy caps it there), so no other spec sees a 10 s lock.
    await api(admin, 'PATCH', '/admin/policy', { lock_idle_seconds: 120 });
    await browser?.close();
  });

  async function waitForLock(page) {
    const start = Date.now();
    await page.getByRole('heading', { name: 'Wardline is locked' }).waitFor({ timeout: (IDLE_SECONDS + 10) * 1000 });
    return (Date.now() - start) / 1000;
  }

  async function assertNothingShown(page) {
    const html = await page.content();
    assert.ok(!html.includes(secret), 'no message text in the DOM');
    assert.ok(!html.includes(conv.title), 'no conversation title in the DOM');
    assert.equal(await page.locator('.app-message-list, .app-conversation-list, .nhsuk-header__navigation').count(), 0, 'no screen is rendered under the lock');
  }

  it('locks after the idle time, hides everything, and unlocks with the PIN', async () => {
    kai = await person(browser, 'Kai');
    const page = kai.page;
    await signIn(page, staff.email, staff.password);

    // Set a PIN on the security page.
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('link', { name: 'Manage sign-in and security' }).click();
    await page.getByLabel('PIN', { exact: true }).fill('1234');
    await page.getByLabel('Confirm PIN').fill('1234');
    await page.getByRole('button', { name: 'Set PIN' }).click();
    await page.locator('.nhsuk-error-summary').getByText(/harder to guess/).waitFor();
    await page.getByLabel('PIN', { exact: true }).fill(PIN);
    await page.getByLabel('Confirm PIN').fill(PIN);
    await page.getByRole('button', { name: 'Set PIN' }).click();
    await page.getByText('Your PIN is set.').waitFor();
    await shot(page, 'lock-01-pin-set');

    await page.getByRole('link', { name: 'Conversations', exact: true }).first().click();
    await page.getByRole('link', { name: new RegExp(conv.title) }).click();
    await page.getByText(secret).waitFor();
    await online(page);

    // Nobody touches the keyboard, mouse or screen.
    const waited = await waitForLock(page);
    assert.ok(waited >= IDLE_SECONDS - 4, `locked after ${waited} s of the ${IDLE_SECONDS} s idle time`);
    await assertNothingShown(page);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'unlock-pin', 'focus is in the PIN field');
    await shot(page, 'lock-02-locked');

    // The server knows: the session answers 423 to anything but unlocking.
    kai.allow(/status of 423/);
    assert.equal(await page.evaluate(async () => (await fetch('/api/v1/conversations', { headers: { 'X-Wardline-CSRF': '1' } })).status), 423);

    kai.allow(/status of 403/);
    await page.getByLabel('PIN', { exact: true }).fill('000000');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('.nhsuk-error-summary').getByText('The PIN is not correct. You have 4 tries left before you are signed out').waitFor();
    await shot(page, 'lock-03-wrong-pin');
    await assertNothingShown(page);

    await page.getByLabel('PIN', { exact: true }).fill(PIN);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText(secret).waitFor();
    await online(page);
    await shot(page, 'lock-04-unlocked');
    kai.assertClean();
  });

  it('five wrong PINs sign out and wipe the browser', async () => {
    const page = kai.page;
    await waitForLock(page);
    for (let i = 4; i >= 1; i--) {
      await page.getByLabel('PIN', { exact: true }).fill('111111');
      await page.getByRole('button', { name: 'Unlock' }).click();
      await page.locator('.nhsuk-error-summary').getByText(`You have ${i} ${i === 1 ? 'try' : 'tries'} left`).waitFor();
    }
    await shot(page, 'lock-05-last-try');
    await page.getByLabel('PIN', { exact: true }).fill('111111');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();
    await page.getByText('You were signed out because the wrong PIN was entered too many times').waitFor();
    await shot(page, 'lock-06-signed-out');
    const left = await page.evaluate(async () => ({
      storage: localStorage.length + sessionStorage.length,
      dbs: (await indexedDB.databases()).length,
      text: document.body.innerText,
    }));
    assert.deepEqual([left.storage, left.dbs], [0, 0]);
    assert.ok(!left.text.includes(secret) && !left.text.includes('Kai Osei'));
    // The session is over on the server too.
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert.equal(me, 401);
    kai.assertClean();
  });
});
