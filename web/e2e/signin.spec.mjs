// Signing in: a wrong password, the forced change of an initial password (also after a reload in
// the middle of it), and changing one's password from My account, which ends every session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, apiLogin, env, launch, newStaff, online, person, shot, signIn } from './lib.mjs';

describe('signing in', () => {
  let browser, adminToken;

  before(async () => {
    browser = await launch();
    adminToken = (await apiLogin(DEMO.sam)).token;
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
    await page.getByRole('button', { name: 'Sign in' }).click();
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
    await page.getByRole('button', { name: 'Sign in' }).click();
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
    await page.getByRole('button', { name: 'Sign in' }).click();
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
    await page.getByRole('button', { name: 'Sign in' }).click();
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
    await shot(page, 'signin-06-my-account');
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
    await shot(there.page, 'signin-07-signed-out-elsewhere');

    await signIn(page, staff.email, next);
    here.assertClean();
    there.assertClean();
  });

  // PIN lock (issue 7's "the PIN lock engages after idle") arrives with the auth feature's PIN
  // set-up and idle-lock policy. Its test goes here: set an organisation idle lock of a few
  // seconds (the shortest the policy allows), set a PIN on My account, leave the page idle, and
  // check that the lock screen covers everything (no message text in the DOM), that a wrong PIN
  // is refused, and that the right one brings back the screen with nothing missing.
});
