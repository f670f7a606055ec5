// Passkeys in Chromium's virtual authenticator (CDP WebAuthn domain; it plays the fingerprint
// check): registered on the security page, then used to sign in alone (the demo organisation
// allows passwordless sign-in) and as the second step after a password. The relying party is
// localhost, so this spec opens the server as http://localhost:PORT, a secure context.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminToken, env, launch, newStaff, online, person, shot, signIn } from './lib.mjs';

describe('passkeys', () => {
  let browser;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('registers a passkey, signs in with it alone, and uses it as the second step', async () => {
    const staff = await newStaff(await adminToken(), { name: 'Pat Kim', jobTitle: 'Pharmacist' });
    const pat = await person(browser, 'Pat');
    const page = pat.page;
    const cdp = await pat.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        ctap2Version: 'ctap2_1',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    const base = env().localhostUrl;
    await signIn(page, staff.email, staff.password, { base });
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('link', { name: 'Manage sign-in and security' }).click();
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByLabel('Name for this passkey (optional)').fill('Ward 7 PC');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.getByText('The passkey Ward 7 PC has been added.').waitFor();
    await page.getByRole('list', { name: 'Your passkeys' }).getByText('Ward 7 PC', { exact: true }).waitFor();
    await shot(page, 'passkey-01-registered');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential, for passwordless sign-in');

    // Passwordless: no email, no password.
    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();
    await shot(page, 'passkey-02-sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
    await online(page);
    await shot(page, 'passkey-03-signed-in-passwordless');

    // As the second step after the password.
    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByLabel('Email address').fill(staff.email);
    await page.getByLabel('Password', { exact: true }).fill(staff.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Use your passkey' }).waitFor();
    await shot(page, 'passkey-04-second-step');
    await page.getByRole('button', { name: 'Use my passkey' }).click();
    await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
    await online(page);
    const { credentials: after } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(after[0].signCount >= 2, 'the passkey signed twice');
    pat.assertClean();
  });
});
