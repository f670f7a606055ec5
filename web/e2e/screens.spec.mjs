// Every screen at a 360 px phone and a 1920 px ward PC (screenshots, no sideways scrolling, no
// CSP violation or script error anywhere), and the keyboard alone reaching compose and send.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, PHONE, WARD_PC, env, launch, nextTotp, online, person, shot, shownBodies, signIn, unique } from './lib.mjs';

// Presses Tab until the focused element satisfies `is` (evaluated in the page); fails after max.
async function tabTo(page, what, is, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(is)) return i + 1;
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  assert.fail(`${what} not reached with ${max} presses of Tab; focus is on ${at}`);
}

// The focused element shows where focus is (NHS.UK: yellow outline or box shadow).
async function focusVisible(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const s = getComputedStyle(el);
    return (s.outlineStyle !== 'none' && s.outlineWidth !== '0px') || s.boxShadow !== 'none';
  });
}

async function noSidewaysScroll(page, where) {
  const { scroll, width, widest } = await page.evaluate(() => {
    const width = window.innerWidth;
    // The innermost elements that stick out, to say what to fix.
    const out = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 1 && el.children.length === 0);
    return {
      scroll: document.documentElement.scrollWidth,
      width,
      widest: out.slice(0, 3).map((el) => `<${el.tagName.toLowerCase()} class="${el.className}">${(el.textContent ?? '').slice(0, 40)}`),
    };
  });
  assert.ok(scroll <= width, `${where}: the page is ${scroll} px wide in a ${width} px window; sticking out: ${widest.join(', ')}`);
}

describe('screens', () => {
  let browser;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  for (const [label, viewport] of [
    ['360', PHONE],
    ['1920', WARD_PC],
  ]) {
    it(`every screen renders at ${label} px without CSP violations`, async () => {
      const sam = await person(browser, `Sam at ${label} px`, { viewport });
      const page = sam.page;
      const visit = async (name) => {
        await shot(page, `layout-${label}-${name}`);
        await noSidewaysScroll(page, name);
      };

      await page.goto(env().url + '/');
      await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();
      await visit('01-sign-in');

      await signIn(page, DEMO.sam);
      await visit('02-conversations');

      await page.getByRole('link', { name: /Ward 7 team/ }).click();
      await page.getByText('Two admissions expected from ED').waitFor();
      await visit('03-conversation');
      await page.getByText(/^Members/).click();
      await visit('04-conversation-members');

      await page.getByRole('link', { name: 'Conversations', exact: true }).first().click();
      await page.getByRole('link', { name: 'Start a conversation' }).click();
      await page.getByLabel('Who do you want to message?').fill('nurse');
      await page.getByRole('button', { name: /^Choose / }).first().waitFor();
      await visit('05-new-conversation');

      await page.getByRole('link', { name: 'My account' }).click();
      await page.getByRole('heading', { name: 'My account' }).waitFor();
      await visit('06-my-account');

      await page.getByRole('link', { name: 'Staff' }).click();
      await page.getByText(DEMO.priya).waitFor();
      await visit('07-staff');
      await page.getByRole('button', { name: 'Add a member of staff' }).click();
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.locator('.nhsuk-error-summary').waitFor();
      await visit('08-staff-create-errors');

      const priya = page.getByRole('row', { name: /Priya Shah/ }).first();
      await priya.getByRole('button', { name: 'Sign-in and devices of Dr Priya Shah' }).click();
      await page.getByRole('button', { name: 'Reset second factors of Dr Priya Shah' }).waitFor();
      await visit('09-staff-sign-in');

      await page.getByRole('link', { name: 'Organisation sign-in policy' }).click();
      await page.getByLabel('Keep a locked account locked for this many minutes').fill('99');
      await page.getByRole('button', { name: 'Save policy' }).click();
      await page.locator('.nhsuk-error-summary').waitFor();
      await visit('10-policy-errors');

      await page.getByRole('link', { name: 'My account' }).click();
      await page.getByRole('link', { name: 'Manage sign-in and security' }).click();
      await page.getByRole('heading', { name: 'Where you are signed in' }).waitFor();
      await page.locator('.app-device', { hasText: 'This device' }).waitFor();
      await visit('11-security');

      await page.goto(env().url + '/no/such/screen');
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await online(page);
      await visit('12-not-found');
      sam.assertClean();
      await sam.context.close();
    });
  }

  it('is installable: the service worker runs and the manifest and icons arrive with the right types', async () => {
    const p = await person(browser, 'installer');
    const page = p.page;
    await page.goto(env().url + '/');
    await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();
    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return { scope: new URL(reg.scope).pathname, script: reg.active ? new URL(reg.active.scriptURL).pathname : null };
    });
    assert.deepEqual(sw, { scope: '/', script: '/sw.js' });
    const files = await page.evaluate(async () => {
      const out = {};
      const manifestUrl = document.querySelector('link[rel=manifest]')?.getAttribute('href') ?? '';
      const res = await fetch(manifestUrl, { cache: 'no-store' });
      const manifest = await res.json();
      out[manifestUrl] = res.headers.get('Content-Type');
      for (const icon of manifest.icons) {
        const r = await fetch(icon.src, { cache: 'no-store' });
        out[icon.src] = `${r.status} ${r.headers.get('Content-Type')}`;
      }
      const sw = await fetch('/sw.js', { cache: 'no-store' });
      out['/sw.js'] = `${sw.headers.get('Content-Type')}; ${sw.headers.get('Cache-Control')}`;
      return out;
    });
    assert.deepEqual(files, {
      '/manifest.webmanifest': 'application/manifest+json',
      '/icons/icon.svg': '200 image/svg+xml',
      '/icons/icon-192.png': '200 image/png',
      '/icons/icon-512.png': '200 image/png',
      '/sw.js': 'text/javascript; charset=utf-8; no-cache',
    });
    p.assertClean();
    await p.context.close();
  });

  it('the keyboard alone signs in, opens a conversation, composes and sends', async () => {
    const owen = await person(browser, 'Owen on the keyboard');
    const page = owen.page;
    await page.goto(env().url + '/');
    await page.getByRole('heading', { name: 'Sign in to Wardline' }).waitFor();

    // The first Tab reaches the skip link, which shows that it has focus.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to main content');
    assert.equal(await focusVisible(page), true, 'the skip link shows focus');

    await tabTo(page, 'the email field', () => document.activeElement?.id === 'email');
    await page.keyboard.type(DEMO.owen);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type(env().password);
    await page.keyboard.press('Enter');
    // The second step: its heading takes focus, the next Tab reaches the code field.
    await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
    await tabTo(page, 'the security code field', () => document.activeElement?.id === 'totp-code', 3);
    await page.keyboard.type(await nextTotp(DEMO.owen));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
    await online(page);

    // A new screen puts focus on its heading, so that the next Tab starts in its content.
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');

    await tabTo(page, 'the Ward 7 team link', () => document.activeElement?.textContent?.includes('Ward 7 team') ?? false);
    assert.equal(await focusVisible(page), true, 'the conversation link shows focus');
    await shot(page, 'keyboard-01-focus-on-conversation');
    await page.keyboard.press('Enter');
    await page.getByText('Two admissions expected from ED').waitFor();

    await tabTo(page, 'the message field', () => document.activeElement?.id === 'compose');
    const text = `Physio done in bay 2 ${unique()}`;
    await page.keyboard.type(text);
    await tabTo(page, 'the Send button', () => document.activeElement?.textContent?.trim() === 'Send', 10);
    assert.equal(await focusVisible(page), true, 'the Send button shows focus');
    await shot(page, 'keyboard-02-focus-on-send');
    await page.keyboard.press('Enter');
    await page.locator('.app-message-list > li:not(.app-message--pending)', { hasText: text }).waitFor();
    assert.equal((await shownBodies(page)).filter((b) => b === text).length, 1);
    await shot(page, 'keyboard-03-sent');
    owen.assertClean();
    await owen.context.close();
  });
});
