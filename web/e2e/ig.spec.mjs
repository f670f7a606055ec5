// The IG console in a real browser (Helen, org_role auditor): audit search by person and by NHS
// number (typed into the form, sent in the body, never in a URL), pages, CSV and JSON exports; an
// investigation opened with a justification and its JSON and PDF transcripts downloaded; an alert
// arriving live; the log's checkpoint and a consistency proof checked in the browser; the IG
// screens at 360 px and 1920 px and by keyboard alone.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { DEMO, PHONE, WARD_PC, api, apiLogin, env, eventually, launch, person, shot, signIn, unique } from './lib.mjs';
import { assertNotInUrls, assertNothingStored, focusVisible, newNhsNumber, noSidewaysScroll, recordRequests, spaced, tabTo } from './clinical-lib.mjs';

async function downloaded(page, click) {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), body: await readFile(path) };
}

async function latestCheckpoint(token) {
  const res = await fetch(env().url + '/api/v1/audit/checkpoint', { headers: { Authorization: `Bearer ${token}` } });
  return res.ok ? res.json() : null;
}

describe('IG console', () => {
  let browser, helen, helenApi, graceApi, tomApi, urls;
  let convId, earlier;
  const nhs = newNhsNumber();
  const body = `Bay 6 falls review ${unique()}: bed rails up overnight`;

  before(async () => {
    browser = await launch();
    helenApi = await apiLogin('helen.clarke@demo.wardline.nhs.uk');
    graceApi = await apiLogin(DEMO.grace);
    tomApi = await apiLogin(DEMO.tom);
    // Something to find: a conversation about a patient, with a message in it.
    const patient = await api(graceApi.token, 'POST', '/patients', { nhs_number: spaced(nhs), name: 'Florence Nightingale', date_of_birth: '1950-05-12' });
    const conv = await api(graceApi.token, 'POST', '/conversations', { kind: 'group', title: `Falls review ${unique()}`, member_ids: [tomApi.user.id], patient_id: patient.id });
    convId = conv.id;
    await api(graceApi.token, 'POST', `/conversations/${convId}/messages`, { client_id: crypto.randomUUID(), body, priority: 'routine' });
    // The checkpoint the consistency check compares with at the end (the server signs one a
    // minute while the log grows; a run of this spec on its own waits for the first).
    earlier = await eventually(() => latestCheckpoint(helenApi.token), { timeout: 75_000, interval: 1000, message: 'a first signed checkpoint' });

    helen = await person(browser, 'Helen (IG officer)');
    urls = recordRequests(helen.context);
    await signIn(helen.page, 'helen.clarke@demo.wardline.nhs.uk');
  });
  after(async () => {
    await api(helenApi?.token, 'PUT', '/audit/alert-policy', {}).catch(() => undefined);
    await browser?.close();
  });

  it('searches the log by person and by NHS number, pages through it, and exports CSV and JSON', async () => {
    const h = helen.page;
    await h.getByRole('link', { name: 'Audit' }).click();
    await h.getByRole('heading', { name: 'Audit log' }).waitFor();

    // Everything, newest first, a page at a time.
    await h.getByRole('button', { name: 'Search the log' }).click();
    await h.getByText(/^Entries 1 to 25 \(more on the next page\)/).waitFor();
    await h.getByRole('button', { name: 'Next page' }).click();
    await h.getByText(/^Entries 26 to \d+/).waitFor();
    await h.getByRole('button', { name: 'Previous page' }).click();
    await h.getByText(/^Entries 1 to 25/).waitFor();

    // By person.
    await h.getByLabel('Person (email address)').fill(DEMO.grace);
    await h.getByRole('button', { name: 'Search the log' }).click();
    const table = h.locator('.app-audit-table');
    await table.getByText('Message sent').first().waitFor();
    assert.ok(!(await table.innerText()).includes('Helen Clarke'), 'only entries by Grace');
    await shot(h, 'ig-01-search-by-person');

    // By patient: the NHS number goes in the body of the POST, and finds the registration.
    await h.getByLabel('Person (email address)').fill('');
    await h.getByLabel('Patient’s NHS number').fill('123 456 7890');
    await h.getByRole('button', { name: 'Search the log' }).click();
    await h.locator('.nhsuk-error-summary', { hasText: 'not a valid NHS number' }).waitFor();
    await h.getByLabel('Patient’s NHS number').fill(spaced(nhs));
    await h.getByRole('button', { name: 'Search the log' }).click();
    await table.getByText('Patient registered').waitFor();
    await shot(h, 'ig-02-search-by-nhs-number');

    const csv = await downloaded(h, () => h.getByRole('button', { name: 'Download CSV' }).click());
    assert.match(csv.name, /^wardline-audit-.*\.csv$/);
    const lines = csv.body.toString('utf8').trim().split('\n');
    assert.equal(lines[0], 'seq,at,org_id,actor_id,session_id,source_addr,action,target_type,target_id,conversation_id,outcome,justification,detail');
    assert.ok(lines.some((l) => l.includes('patient.registered')), 'the CSV holds the registration');
    const json = await downloaded(h, () => h.getByRole('button', { name: 'Download JSON' }).click());
    assert.match(json.name, /\.json$/);
    const items = JSON.parse(json.body.toString('utf8')).items;
    assert.ok(items.some((e) => e.action === 'patient.registered' && e.actor_id === graceApi.user.id));
    assert.ok(!json.body.toString('utf8').includes(nhs), 'the export holds no NHS number');

    await assertNotInUrls(urls, h, [nhs, spaced(nhs), 'Florence Nightingale']);
    await assertNothingStored(h);
    helen.assertClean();
  });

  it('opens an investigation with a justification and downloads the JSON and PDF transcripts', async () => {
    const h = helen.page;
    await h.getByLabel('Patient’s NHS number').fill('');
    await h.getByLabel('Conversation ID').fill(convId);
    await h.getByRole('button', { name: 'Search the log' }).click();
    await h.locator('.app-audit-table').getByText('Conversation created').waitFor();
    await h.locator('.app-audit-table').getByRole('link', { name: 'Investigate this conversation' }).first().click();
    await h.getByRole('heading', { name: 'Investigations' }).waitFor();
    assert.equal(await h.getByLabel('Conversation ID').inputValue(), convId);

    await h.getByRole('button', { name: 'Open investigation' }).click();
    await h.locator('.nhsuk-error-summary', { hasText: 'at least 20 characters' }).waitFor();
    const why = `Complaint C-${unique()}: the family asks what was agreed about bed rails overnight.`;
    await h.getByLabel('Justification').fill(why);
    await h.getByRole('button', { name: 'Open investigation' }).click();
    await h.getByText('The investigation is open.').waitFor();
    const item = h.locator('.app-case', { hasText: why });
    await item.waitFor();
    await shot(h, 'ig-03-investigation-open');

    const transcript = await downloaded(h, () => item.getByRole('button', { name: 'Export transcript (JSON)' }).click());
    assert.match(transcript.name, /^wardline-transcript-.*\.json$/);
    const t = JSON.parse(transcript.body.toString('utf8'));
    assert.equal(t.investigation.justification, why);
    assert.equal(t.investigation.conversation_id, convId);
    assert.ok(t.messages.some((m) => m.versions.some((v) => v.body === body)), 'the transcript holds the message');
    const pdf = await downloaded(h, () => item.getByRole('button', { name: 'Export transcript (PDF)' }).click());
    assert.equal(pdf.body.subarray(0, 5).toString(), '%PDF-');

    await item.getByRole('button', { name: /^Who exported it/ }).click();
    await item.getByText(/Helen Clarke \(you\) exported json/).waitFor();
    await shot(h, 'ig-04-investigation-exports');
    helen.assertClean();
  });

  it('shows an alert as it is raised, after the officer lowers its threshold', async () => {
    const h = helen.page;
    await h.getByRole('link', { name: 'Alert policy' }).click();
    await h.getByLabel('Failed sign-ins to one account in an hour').fill('2');
    await h.getByRole('button', { name: 'Save alert policy' }).click();
    await h.getByText('The alert policy is saved.').waitFor();
    await h.getByRole('link', { name: 'Alerts' }).click();
    await h.getByRole('heading', { name: 'Alerts' }).waitFor();

    // Two wrong passwords for one account, from outside the browser.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(env().url + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: DEMO.owen, password: 'not-the-password' }) });
      assert.equal(res.status, 401);
    }
    const live = h.locator('.app-alert', { hasText: 'Failed sign-ins to one account' }).filter({ has: h.getByText('New', { exact: true }) });
    await live.first().waitFor();
    await h.getByRole('link', { name: /Alerts\s*\d+ new/ }).waitFor();
    await shot(h, 'ig-05-alert-live');
    helen.assertClean();
  });

  it('the keyboard alone searches the log and downloads the JSON export', async () => {
    const h = helen.page;
    await h.goto(env().url + '/ig');
    await h.getByRole('heading', { name: 'Audit log' }).waitFor();
    await tabTo(h, 'the person field', () => document.activeElement?.id === 'audit-email');
    assert.equal(await focusVisible(h), true, 'the field shows focus');
    await h.keyboard.type(DEMO.tom);
    await h.keyboard.press('Enter');
    await h.locator('.app-audit-table').waitFor();
    await tabTo(h, 'Download JSON', () => document.activeElement?.textContent === 'Download JSON', 200);
    assert.equal(await focusVisible(h), true, 'the button shows focus');
    await shot(h, 'keyboard-ig-01-download');
    const json = await downloaded(h, () => h.keyboard.press('Enter'));
    assert.ok(JSON.parse(json.body.toString('utf8')).items.every((e) => e.actor_id === tomApi.user.id));
    helen.assertClean();
  });

  for (const [label, viewport] of [
    ['360', PHONE],
    ['1920', WARD_PC],
  ]) {
    it(`the IG screens at ${label} px: no sideways scrolling, no CSP violation`, async () => {
      const h = helen.page;
      await h.setViewportSize(viewport);
      const visit = async (name) => {
        await shot(h, `layout-${label}-ig-${name}`);
        await noSidewaysScroll(h, name);
      };
      await h.goto(env().url + '/ig');
      await h.getByRole('heading', { name: 'Audit log' }).waitFor();
      await h.getByLabel('Conversation ID').fill(convId);
      await h.getByRole('button', { name: 'Search the log' }).click();
      await h.locator('.app-audit-table').waitFor();
      await h.locator('.app-audit-detail summary').first().click();
      await h.locator('[data-checkpoint-size]').waitFor();
      await visit('01-audit-search');
      await h.goto(env().url + '/ig/investigations');
      await h.locator('.app-case').first().waitFor();
      await visit('02-investigations');
      await h.goto(env().url + '/ig/alerts');
      await h.locator('.app-alert').first().waitFor();
      await visit('03-alerts');
      await h.goto(env().url + '/ig/alert-policy');
      await h.getByRole('button', { name: 'Save alert policy' }).waitFor();
      await visit('04-alert-policy');
      helen.assertClean();
    });
  }

  it('the checkpoint is signed, and a consistency proof from an earlier one checks out in the browser', async () => {
    const h = helen.page;
    await h.setViewportSize({ width: 1280, height: 800 });
    // The proof needs a checkpoint newer than the one taken before the tests (one a minute).
    await eventually(async () => (await latestCheckpoint(helenApi.token))?.size > earlier.size, { timeout: 75_000, interval: 1000, message: 'a newer checkpoint' });
    await h.goto(env().url + '/ig');
    const size = h.locator('[data-checkpoint-size]');
    await size.waitFor();
    assert.ok(Number(await size.getAttribute('data-checkpoint-size')) > earlier.size);
    await h.locator('.app-checkpoint').getByText('Valid', { exact: true }).waitFor();

    await h.getByLabel('Earlier size').fill(String(earlier.size));
    await h.getByLabel('Earlier root hash').fill(earlier.root_hash);
    await h.getByRole('button', { name: 'Check consistency' }).click();
    await h.locator('.app-check--ok', { hasText: `The log only grew: its first ${earlier.size} entries are unchanged` }).waitFor();
    await shot(h, 'ig-06-consistency-ok');

    // A root that is not the log's: the check fails, loudly.
    const forged = Buffer.from(earlier.root_hash, 'base64');
    forged[0] ^= 1;
    await h.getByLabel('Earlier root hash').fill(forged.toString('base64'));
    await h.getByRole('button', { name: 'Check consistency' }).click();
    await h.locator('.app-check--fail', { hasText: 'The proof does not match' }).waitFor();
    await shot(h, 'ig-07-consistency-fail');
    helen.assertClean();
  });
});
