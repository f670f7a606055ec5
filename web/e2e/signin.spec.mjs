// Signing in: a wrong password, the forced change of an initial password (also after a reload in
// the middle of it), and changing one's password from My account, which ends every session.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { DEMO, adminToken as getAdminToken, env, launch, newStaff, nextTotp, online, person, rememberSecret, shot, signIn } from './lib.mjs';

describe('signing in', () => {
  let browser, adminToken;

  before(async () => {
    browser = await launch();
    adminToken = await getAdminToken();
  });
  after(async () => {
    await browser?.close();
  });

  it('a wrong password shows the error summary, focused, and does not say whether the account exists', async () => {
    const p = await person(browser, 'someone');
    const page = p.page;
    await page.goto(env().url + '/');
    await shot(page, 'signin-01-sign-in');
    await page.getByLabel('Email address').fill(DEMO.grace);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.getByText('There is a problem').waitFor();
    await summary.getByRole('link', { name: 'The email address or password is not correct' }).waitFor();
    assert.equal(await summary.evaluate((el) => el === document.activeElement), true, 'the summary takes focus');
    await shot(page, 'signin-02-wrong-password');

    // The summary's link goes to the password field.
    await summary.getByRole('link').click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');

    // An unknown address gets the very same answer.
    await page.getByLabel('Email address').fill('nobody@demo.wardline.nhs.uk');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await summary.getByRole('link', { name: 'The email address or password is not correct' }).waitFor();
    p.allow(/status of 401/);
    p.assertClean();
    await p.context.close();
  });

  it('first sign-in asks for a new password, also after a reload, and then signs in with it', async () => {
    const staff = await newStaff(adminToken, { name: 'Nia Roberts', keepInitial: true });
    const p = await person(browser, 'Nia');
    const page = p.page;
    await page.goto(env().url + '/');
    await page.getByLabel('Email address').fill(staff.email);
    await page.getByLabel('Password', { exact: true }).fill(staff.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Create a new password' }).waitFor();
    await shot(page, 'signin-03-forced-password-change');

    // Reloaded half-way (GET /me says the change is still required): the change is asked for
    // again, now with the current password, since the page no longer knows it.
    await page.reload();
    await page.getByRole('heading', { name: 'Create a new password' }).waitFor();
    const newPassword = 'night-shift-ward-seven-2026';
    await page.getByLabel('Current password').fill('not-my-initial-password');
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    p.allow(/status of 403/); // the wrong current password answers 403
    await page.getByRole('button', { name: 'Save new password' }).click();
    await page.locator('.nhsuk-error-summary').getByText('Your current password is not correct').waitFor();
    await shot(page, 'signin-04-forced-change-wrong-current');

    await page.getByLabel('Current password').fill(staff.password);
    await page.getByRole('button', { name: 'Save new password' }).click();
    await page.getByText('Your password has been changed. Sign in with your new password.').waitFor();
    assert.equal(await page.getByLabel('Email address').inputValue(), staff.email, 'the email address is filled in');
    await shot(page, 'signin-05-password-changed');

    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // The organisation requires a second factor and Nia has none: she sets up an authenticator
    // app with the QR code (drawn by the page) or the set-up key shown beside it.
    await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    assert.equal(await qr.evaluate((el) => el.tagName.toLowerCase()), 'svg', 'the QR code is drawn in the page, not fetched');
    const secret = await page.locator('.app-secret').getAttribute('data-secret');
    assert.match(secret ?? '', /^[A-Z2-7]{32}$/);
    assert.equal((await page.locator('.app-secret').innerText()).replace(/\s/g, ''), secret, 'the key is shown as text');
    rememberSecret(staff.email, secret);
    await shot(page, 'signin-06-enrol-totp');
    await page.getByLabel('Code from the app').fill('000000');
    p.allow(/status of 400/); // a wrong code
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('.nhsuk-error-summary').getByText(/The code is not correct/).waitFor();
    await page.getByLabel('Code from the app').fill(await nextTotp(staff.email));
    await page.getByRole('button', { name: 'Confirm' }).click();

    // Ten recovery codes, shown once.
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    await shot(page, 'signin-07-recovery-codes');
    await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
    await online(page);
    assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0, 'nothing in web storage');
    p.assertClean();
    await p.context.close();
  });

  it('signs in with a TOTP code, refusing a wrong one, and offers a recovery code instead', async () => {
    const p = await person(browser, 'Grace');
    const page = p.page;
    await page.goto(env().url + '/');
    await page.getByLabel('Email address').fill(DEMO.grace);
    await page.getByLabel('Password', { exact: true }).fill(env().password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'the new step\'s heading has focus');
    await page.getByRole('button', { name: 'Use a recovery code' }).waitFor();
    await shot(page, 'signin-08-totp');
    p.allow(/status of 401/);
    await page.getByLabel('Security code').fill('12345'); // too short: refused before sending
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.nhsuk-error-summary').getByText('Enter the 6-digit code from your authenticator app').waitFor();
    const step = Math.floor(Date.now() / 30_000);
    const { totpAt, secretOf } = await import('./lib.mjs');
    const wrong = totpAt(secretOf(DEMO.grace), step + 5); // a real code of the wrong time
    await page.getByLabel('Security code').fill(wrong);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.nhsuk-error-summary').getByText(/security code is not correct/).waitFor();
    await shot(page, 'signin-09-totp-wrong');
    await page.getByLabel('Security code').fill(await nextTotp(DEMO.grace));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
    await online(page);
    p.assertClean();
    await p.context.close();
  });

  it('changing my password from My account signs me out everywhere and says why', async () => {
    const staff = await newStaff(adminToken, { name: 'Dev Patel' });
    const here = await person(browser, 'Dev on the ward PC');
    const there = await person(browser, 'Dev on his phone');
    await signIn(here.page, staff.email, staff.password);
    await signIn(there.page, staff.email, staff.password);

    const page = here.page;
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await shot(page, 'signin-10-my-account');
    const next = 'a-much-better-password-2026';
    await page.getByLabel('Current password').fill(staff.password);
    await page.getByLabel('New password', { exact: true }).fill(next);
    await page.getByLabel('Confirm new password').fill(next);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password has been changed. Sign in with your new password.').waitFor();
    await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();

    // The other browser's session ended too; it is told so and wiped.
    await there.page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();
    await there.page.getByText('You have been signed out because your session was ended').waitFor();
    await shot(there.page, 'signin-11-signed-out-elsewhere');

    // The new password is taken: the second step follows (without spending a TOTP code on it).
    await page.getByLabel('Email address').fill(staff.email);
    await page.getByLabel('Password', { exact: true }).fill(next);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
    here.assertClean();
    there.assertClean();
  });

  it('"Sign out everywhere" on the security page ends the other browser too', async () => {
    const staff = await newStaff(adminToken, { name: 'Ife Adeyemi' });
    const here = await person(browser, 'Ife on the ward PC', { viewport: { width: 360, height: 740 } });
    const there = await person(browser, 'Ife on her phone');
    await signIn(here.page, staff.email, staff.password);
    await signIn(there.page, staff.email, staff.password);

    const page = here.page;
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('link', { name: 'Manage sign-in and security' }).click();
    await page.getByRole('heading', { name: 'Sign-in and security' }).waitFor();
    const devices = page.locator('section[aria-labelledby="devices-heading"] .app-device');
    await devices.nth(1).waitFor();
    // Both browsers (and the set-up's API session, which newStaff made) are listed.
    assert.ok((await devices.count()) >= 2, 'both browsers are listed');
    assert.equal(await devices.filter({ hasText: 'This device' }).count(), 1, 'this one is marked');
    await shot(page, 'signin-12-security-360');
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
    await page.getByText('You have signed out on every device').waitFor();
    await there.page.getByText('You have been signed out because your session was ended').waitFor();
    await shot(there.page, 'signin-13-signed-out-everywhere');
    assert.equal(await there.page.evaluate(() => localStorage.length + sessionStorage.length), 0);
    here.assertClean();
    there.assertClean();
  });
  it('an address held in two organisations signs in to the one named under "I work for more than one organisation"', async () => {
    // A second organisation on the same deployment, made by the admin command beside the running
    // server, whose first admin has Grace's address (as a bank nurse would in a second trust).
    const out = execFileSync(env().binary, ['admin', 'create-org', '--data-dir', env().dataDir, '--org', 'Southgate Community Trust',
      '--email', DEMO.grace, '--name', 'Grace at Southgate', '--json'], { encoding: 'utf8' });
    const { initial_password: initial } = JSON.parse(out.trim().split('\n').pop());
    const p = await person(browser, 'Grace at Southgate');
    const page = p.page;
    await page.goto(env().url + '/');
    await page.getByLabel('Email address').fill(DEMO.grace);
    await page.getByLabel('Password', { exact: true }).fill(initial);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // Without the organisation the address reaches her first account, whose password this is not.
    await page.locator('.nhsuk-error-summary').getByRole('link', { name: 'The email address or password is not correct' }).waitFor();

    await page.getByText('I work for more than one organisation').click();
    await page.getByLabel('Organisation (optional)').fill('southgate community trust');
    await page.getByLabel('Password', { exact: true }).fill(initial);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Create a new password' }).waitFor();
    await shot(page, 'signin-14-second-organisation');
    // After the change she signs in again: the organisation is still filled in.
    const newPassword = 'bank-shift-southgate-2026';
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    await page.getByRole('button', { name: 'Save new password' }).click();
    await page.getByText('Your password has been changed. Sign in with your new password.').waitFor();
    assert.equal(await page.getByLabel('Organisation (optional)').inputValue(), 'southgate community trust', 'the organisation is kept');
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
    p.allow(/status of 401/);
    p.assertClean();
    await p.context.close();

    // Her first account is untouched: she still signs in to it with the demo password.
    const first = await person(browser, 'Grace');
    await signIn(first.page, DEMO.grace);
    first.assertClean();
    await first.context.close();
  });
});
