// The admin console's sign-in tools: a person's devices (sign one out, and their browser is
// signed out at once), a password reset whose new initial password is shown once and must be
// changed at the next sign-in, and the organisation's sign-in policy with its validation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, adminToken, launch, newStaff, person, shot, signIn } from './lib.mjs';

describe('admin console: sign-in', () => {
  let browser;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('signs a person out of a device and resets their password', async () => {
    const staff = await newStaff(await adminToken(), { name: 'Rosa Lima', jobTitle: 'Healthcare Assistant' });
    const rosa = await person(browser, 'Rosa');
    await signIn(rosa.page, staff.email, staff.password);

    const sam = await person(browser, 'Sam');
    const page = sam.page;
    await signIn(page, DEMO.sam);
    await page.getByRole('link', { name: 'Staff' }).click();
    await page.getByLabel('Name or email').fill('Rosa Lima');
    const row = page.getByRole('row', { name: /Rosa Lima/ }).first();
    await row.getByRole('button', { name: 'Sign-in and devices of Rosa Lima' }).click();
    const panel = page.getByRole('region', { name: 'Sign-in and devices of Rosa Lima' });
    const browserDevice = panel.locator('.app-device', { hasText: 'Chrome' });
    await browserDevice.waitFor();
    await shot(page, 'admin-01-devices');
    await browserDevice.getByRole('button', { name: /^Sign out/ }).click();
    await panel.getByText(/Rosa Lima has been signed out of/).waitFor();
    await rosa.page.getByText('You have been signed out because your session was ended').waitFor();

    await panel.getByRole('button', { name: 'Reset password of Rosa Lima' }).click();
    await panel.getByRole('button', { name: 'Yes, reset their password' }).click();
    const shown = panel.locator('.app-secret');
    await shown.waitFor();
    const initial = await shown.innerText();
    assert.ok(initial.length >= 12, 'an initial password is shown');
    await shot(page, 'admin-02-password-reset');
    await panel.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.locator('.app-secret').count(), 0, 'shown once, then gone');

    // Rosa's next sign-in with it asks for a new password.
    await rosa.page.getByLabel('Email address').fill(staff.email);
    await rosa.page.getByLabel('Password', { exact: true }).fill(initial);
    await rosa.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await rosa.page.getByRole('heading', { name: 'Enter your security code' }).or(rosa.page.getByRole('heading', { name: 'Create a new password' })).waitFor();
    sam.assertClean();
    rosa.assertClean();
    await rosa.context.close();

    // The policy page refuses values outside what the server allows, and says which.
    await page.getByRole('link', { name: 'Staff' }).click();
    await page.getByRole('link', { name: 'Organisation sign-in policy' }).click();
    await page.getByRole('heading', { name: 'Sign-in policy' }).waitFor();
    assert.equal(await page.getByLabel('Require a second step (authenticator app or passkey)').isChecked(), true);
    await page.getByLabel('Lock the screen after this many seconds without use').fill('5');
    await page.getByLabel('Sign out after this many minutes in any case').fill('900');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.getByText('Lock the screen after this many seconds without use: enter a whole number from 10 to 120').waitFor();
    await summary.getByText('Sign out after this many minutes in any case: enter a whole number from 1 to 840').waitFor();
    await shot(page, 'admin-03-policy-errors');
    await page.getByLabel('Lock the screen after this many seconds without use').fill('120');
    await page.getByLabel('Sign out after this many minutes in any case').fill('840');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Nothing has changed.').waitFor();
    sam.assertClean();
  });
});
