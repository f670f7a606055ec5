// Two clinicians in two browsers: live messages with delivered/read ticks, going offline and
// coming back with nothing missing or doubled, an urgent message acknowledged, and a member
// removed while reading.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, eventually, launch, online, person, send, shot, shownBodies, signIn, statusOf, unique } from './lib.mjs';

describe('live messaging between two browsers', () => {
  let browser, priya, tom;
  const title = `Bay 3 handover ${unique()}`;
  const said = []; // every message body in the conversation, in order

  before(async () => {
    browser = await launch();
    priya = await person(browser, 'Priya');
    tom = await person(browser, 'Tom');
  });
  after(async () => {
    await browser?.close();
  });

  it('two people sign in and exchange messages live, with delivered and read ticks', async () => {
    await signIn(priya.page, DEMO.priya);
    await shot(priya.page, 'chat-01-priya-conversations');
    await signIn(tom.page, DEMO.tom);

    // Priya starts a group with Tom from the directory.
    const p = priya.page;
    await p.getByRole('link', { name: 'Start a conversation' }).click();
    await p.getByLabel('Group', { exact: true }).check();
    await p.getByLabel('Group name (optional)').fill(title);
    await p.getByLabel('Add people').fill('Hughes');
    await p.getByRole('button', { name: 'Add Dr Tom Hughes' }).click();
    await shot(p, 'chat-02-priya-new-conversation');
    await p.getByRole('button', { name: 'Start conversation' }).click();
    await p.getByRole('heading', { name: new RegExp(title) }).waitFor();

    said.push('Bed 4 bloods are back: potassium 5.9');
    await send(p, said[0]);

    // Tom sees the new conversation arrive in his list without reloading, unread.
    const row = tom.page.getByRole('link', { name: new RegExp(title) });
    await row.waitFor();
    await tom.page.locator('.app-conversation--unread', { hasText: title }).waitFor();
    await shot(tom.page, 'chat-03-tom-new-conversation-in-list');

    // His stream got it, so it counts as delivered; once he opens it, as read.
    await eventually(async () => /Delivered/.test(await statusOf(p, said[0]).innerText()), { message: 'Delivered tick' });
    await row.click();
    await tom.page.getByText(said[0]).waitFor();
    await eventually(async () => /Read/.test(await statusOf(p, said[0]).innerText()), { message: 'Read tick' });
    await shot(p, 'chat-04-priya-read-tick');

    said.push('Thanks, repeating the sample now');
    await send(tom.page, said[1]);
    await p.getByText(said[1]).waitFor(); // live, no reload
    await shot(tom.page, 'chat-05-tom-conversation');
    assert.deepEqual(await shownBodies(p), said);
    assert.deepEqual(await shownBodies(tom.page), said);
    priya.assertClean();
    tom.assertClean();
  });

  it('one goes offline and comes back with nothing missing and nothing twice', async () => {
    const t = tom.page;
    tom.allow(/WebSocket connection to .* failed/);
    tom.allow(/Failed to load resource: net::ERR_INTERNET_DISCONNECTED/);
    await tom.context.setOffline(true);
    await t.locator('.app-connection--offline').waitFor();

    // Meanwhile Priya goes on writing; Tom, offline, tries to answer.
    for (const text of ['Potassium repeat sent at 10:05', 'ECG done, no peaked T waves', 'Calcium gluconate not needed for now']) {
      said.push(text);
      await send(priya.page, text);
    }
    await t.getByLabel('Message', { exact: true }).fill('Will chase the lab');
    await t.getByRole('button', { name: /^Send/ }).click();
    await t.getByText('Not sent').waitFor();
    await shot(t, 'chat-06-tom-offline');

    await tom.context.setOffline(false);
    await online(t);
    await eventually(async () => (await shownBodies(t)).length >= said.length, { message: 'replayed messages' });
    assert.deepEqual(await shownBodies(t), said, 'Tom sees every message once, in order');

    // The failed send goes through on "Try again", once, with the same client id.
    await t.getByRole('button', { name: 'Try again' }).click();
    said.push('Will chase the lab');
    await priya.page.getByText('Will chase the lab').waitFor();
    await eventually(async () => (await shownBodies(t)).length === said.length, { message: 'retried message shown' });
    assert.deepEqual(await shownBodies(t), said);
    assert.deepEqual(await shownBodies(priya.page), said);
    await shot(t, 'chat-07-tom-back-online');
    priya.assertClean();
    tom.assertClean();
  });

  it('an urgent message is acknowledged and the sender sees it', async () => {
    const text = 'Bed 9 NEWS2 is 7, please review now';
    await priya.page.getByLabel('Urgent', { exact: true }).check();
    assert.equal(await priya.page.getByLabel('Ask for acknowledgement').isChecked(), true, 'urgent asks for acknowledgement');
    await send(priya.page, text);
    await eventually(async () => /Awaiting acknowledgement/.test(await statusOf(priya.page, text).innerText()), { message: 'awaiting tag' });

    const mine = tom.page.locator('.app-message', { hasText: text });
    await mine.locator('.nhsuk-tag', { hasText: 'Urgent' }).waitFor();
    const ack = mine.getByRole('button', { name: /^Acknowledge/ });
    await shot(tom.page, 'chat-08-tom-urgent-to-acknowledge');
    await ack.click();
    await mine.getByText('You acknowledged').waitFor();
    assert.equal(await ack.count(), 0, 'the button goes once acknowledged');

    await eventually(async () => /Acknowledged/.test(await statusOf(priya.page, text).innerText()), { message: 'acked tick' });
    await shot(priya.page, 'chat-09-priya-acknowledged');
    priya.assertClean();
    tom.assertClean();
  });

  it('a member removed while reading loses the conversation at once', async () => {
    const p = priya.page;
    await p.getByText(/^Members/).click();
    await p.getByRole('button', { name: 'Remove Dr Tom Hughes' }).click();
    await p.getByText('Members (1)').waitFor();

    const t = tom.page;
    await t.getByRole('heading', { name: 'You are no longer in this conversation' }).waitFor();
    const html = await t.content();
    for (const text of said) assert.ok(!html.includes(text), `"${text}" is gone from Tom's page`);
    await shot(t, 'chat-10-tom-removed');
    await t.getByRole('link', { name: 'Back to conversations' }).click();
    await t.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
    assert.equal(await t.getByRole('link', { name: new RegExp(title) }).count(), 0, 'gone from the list');
    priya.assertClean();
    tom.assertClean();
  });
});
