// An admin offboards a leaver whose browser is open on a conversation: that browser is signed out
// at once (session.revoked), shows the sign-in screen, and keeps nothing: no web storage, no
// IndexedDB, no message text in the page, nothing from /api in the service worker's cache.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, adminToken as getAdminToken, launch, person, shot, signIn, unique } from './lib.mjs';
import { newStaff } from './lib.mjs';

describe('offboarding', () => {
  let browser;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('signs out and wipes the open browser of the person offboarded', async () => {
    const adminToken = await getAdminToken();
    const leaver = await newStaff(adminToken, { name: 'Lee Walsh', jobTitle: 'Agency Nurse' });
    const secret = `Bed 14 needs a chest X-ray before discharge ${unique()}`;
    const conv = await api(adminToken, 'POST', '/conversations', { kind: 'group', title: `Night shift ${unique()}`, member_ids: [leaver.id] });
    await api(adminToken, 'POST', `/conversations/${conv.id}/messages`, { client_id: crypto.randomUUID(), body: secret, priority: 'routine' });

    const lee = await person(browser, 'Lee');
    await signIn(lee.page, leaver.email, leaver.password);
    await lee.page.getByRole('link', { name: new RegExp(conv.title) }).click();
    await lee.page.getByText(secret).waitFor();
    await shot(lee.page, 'offboard-01-leaver-reading');

    // Whatever a page might have left behind (the app itself stores nothing) must go as well.
    await lee.page.evaluate(async () => {
      localStorage.setItem('left-behind', 'x');
      sessionStorage.setItem('left-behind', 'x');
      await new Promise((resolve, reject) => {
        const req = indexedDB.open('left-behind', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('things');
        req.onsuccess = () => {
          req.result.close();
          resolve(undefined);
        };
        req.onerror = () => reject(req.error);
      });
    });

    const sam = await person(browser, 'Sam');
    await signIn(sam.page, DEMO.sam);
    await sam.page.getByRole('link', { name: 'Staff' }).click();
    await sam.page.getByLabel('Name or email').fill('Lee Walsh');
    const row = sam.page.getByRole('row', { name: /Lee Walsh/ });
    await row.getByRole('button', { name: 'Offboard Lee Walsh' }).click();
    await shot(sam.page, 'offboard-02-admin-confirms');
    await row.getByRole('button', { name: 'Yes, offboard Lee Walsh' }).click();
    await row.getByText('Offboarded').waitFor();
    await shot(sam.page, 'offboard-03-admin-done');

    // Lee's browser: signed out with the notice, and nothing left.
    const page = lee.page;
    await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();
    await page.getByText('You have been signed out because your session was ended').waitFor();
    await shot(page, 'offboard-04-leaver-signed-out');
    const left = await page.evaluate(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      idb: (await indexedDB.databases()).map((d) => d.name),
      caches: await Promise.all(
        (await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname)),
      ),
      text: document.body.innerText,
      html: document.documentElement.outerHTML,
    }));
    assert.equal(left.local, 0, 'localStorage is empty');
    assert.equal(left.session, 0, 'sessionStorage is empty');
    assert.deepEqual(left.idb, [], 'no IndexedDB databases');
    assert.deepEqual(left.caches.flat().filter((p) => p.startsWith('/api/')), [], 'no API answers cached');
    assert.ok(!left.html.includes(secret), 'no message text in the page');
    assert.ok(!left.text.includes(conv.title), 'no conversation title in the page');
    assert.ok(!left.text.includes('Lee Walsh'), 'no name of the signed-out person in the page');

    // Signing in again is refused (403, which the console reports).
    lee.allow(/status of 403/);
    await page.getByLabel('Email address').fill(leaver.email);
    await page.getByLabel('Password', { exact: true }).fill(leaver.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('.nhsuk-error-summary').getByText(/suspended|no longer/).waitFor();
    await shot(page, 'offboard-05-leaver-refused');
    lee.assertClean();
    sam.assertClean();
  });
});
