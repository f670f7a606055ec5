import { describe, expect, it } from 'vitest';
import { message } from '../../test/fakeServer';
import {
  type AnyServerEvent,
  type Effect,
  type StreamState,
  connecting,
  disconnected,
  historyPage,
  initialState,
  knowConversation,
  receive,
} from './events';

const hello: AnyServerEvent = { type: 'hello', user_id: 'u-me', server_time: '2026-01-01T09:00:00Z' };
const done: AnyServerEvent = { type: 'resume.done' };
const created = (seq: number, conversation_id = 'c-1'): AnyServerEvent => ({ type: 'message.created', message: message(seq, { conversation_id }) });
const receipt = (seq: number): AnyServerEvent => ({
  type: 'receipt',
  conversation_id: 'c-1',
  message_id: `m-c-1-${seq}`,
  seq,
  user_id: 'u-bob',
  kind: 'read',
  at: '2026-01-01T09:05:00Z',
});

function feed(state: StreamState, events: AnyServerEvent[]): { state: StreamState; effects: Effect[] } {
  const effects: Effect[] = [];
  let s = state;
  for (const e of events) {
    const step = receive(s, e);
    s = step.state;
    effects.push(...step.effects);
  }
  return { state: s, effects };
}

/** The seqs of every message handed to the app, in order, as "conversation:seq". */
function shown(effects: Effect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'messages' ? e.messages.map((m) => `${m.conversation_id}:${m.seq}`) : []));
}

function connected(cursors: Record<string, number>): StreamState {
  let s = initialState();
  for (const [id, seq] of Object.entries(cursors)) s = knowConversation(s, id, seq);
  return connecting(s);
}

describe('resume', () => {
  it('sends resume with the cursors right after hello', () => {
    const { state, effects } = feed(connected({ 'c-1': 7, 'c-2': 0 }), [hello]);
    expect(effects).toEqual([{ kind: 'send', event: { type: 'resume', cursors: { 'c-1': 7, 'c-2': 0 } } }]);
    expect(state.phase).toBe('resuming');
  });

  it('ignores everything before hello', () => {
    const { effects } = feed(connected({ 'c-1': 1 }), [created(2)]);
    expect(effects).toEqual([]);
  });

  it('holds events until resume.done, then gives the replay in seq order without duplicates', () => {
    const s = feed(connected({ 'c-1': 2 }), [hello]).state;
    const during = feed(s, [created(4), receipt(3), created(3), created(2), created(4), created(5, 'c-2')]);
    expect(during.effects).toEqual([]);
    expect(during.state.phase).toBe('resuming');

    const after = feed(during.state, [done]);
    expect(shown(after.effects)).toEqual(['c-1:3', 'c-1:4', 'c-2:5']);
    expect(after.effects.find((e) => e.kind === 'messages')).toMatchObject({ source: 'replay' });
    // The held receipt comes after the messages it refers to.
    const kinds = after.effects.map((e) => e.kind);
    expect(kinds.indexOf('event')).toBeGreaterThan(kinds.indexOf('messages'));
    expect(after.state.phase).toBe('live');
    expect(after.state.cursors).toMatchObject({ 'c-1': 4, 'c-2': 5 });
  });

  it('drops live messages it already holds', () => {
    const live = feed(connected({ 'c-1': 5 }), [hello, done]).state;
    const { effects, state } = feed(live, [created(5), created(6), created(6), created(4)]);
    expect(shown(effects)).toEqual(['c-1:6']);
    expect(effects[0]).toMatchObject({ kind: 'messages', source: 'live' });
    expect(state.cursors['c-1']).toBe(6);
  });

  it('passes edits, receipts and unknown later events through once live', () => {
    const live = feed(connected({ 'c-1': 5 }), [hello, done]).state;
    const edit: AnyServerEvent = { type: 'message.updated', message: message(2, { body: 'fixed', edited_at: '2026-01-01T10:00:00Z' }) };
    const later: AnyServerEvent = { type: 'escalation', conversation_id: 'c-1', message_id: 'm', step: 1, notified: [] };
    const { effects } = feed(live, [edit, receipt(5), later]);
    expect(effects).toEqual([
      { kind: 'event', event: edit },
      { kind: 'event', event: receipt(5) },
      { kind: 'event', event: later },
    ]);
  });

  it('forgets a replay cut short by a drop and asks again from the same cursors', () => {
    let s = feed(connected({ 'c-1': 2 }), [hello, created(3), created(4)]).state;
    s = disconnected(s);
    expect(s.held).toEqual([]);
    const again = feed(connecting(s), [hello]);
    expect(again.effects).toEqual([{ kind: 'send', event: { type: 'resume', cursors: { 'c-1': 2 } } }]);
    const after = feed(again.state, [created(3), created(4), done]);
    expect(shown(after.effects)).toEqual(['c-1:3', 'c-1:4']);
  });

  it('resumes from where the last connection got to', () => {
    let s = feed(connected({ 'c-1': 2 }), [hello, created(3), done, created(4)]).state;
    s = connecting(disconnected(s));
    const { effects } = feed(s, [hello]);
    expect(effects).toEqual([{ kind: 'send', event: { type: 'resume', cursors: { 'c-1': 4 } } }]);
  });

  it('starts following a conversation it first hears of from the stream', () => {
    const live = feed(connected({}), [hello, done]).state;
    const upd: AnyServerEvent = {
      type: 'conversation.updated',
      conversation: { id: 'c-9', kind: 'group', title: 'New', created_at: '', created_by: '', members: [], last_seq: 12, unread_count: 0, patient_id: null },
    };
    let { state } = feed(live, [upd]);
    const next = feed(state, [created(12, 'c-9'), created(13, 'c-9')]);
    expect(shown(next.effects)).toEqual(['c-9:13']);
    state = connecting(disconnected(next.state));
    expect(feed(state, [hello]).effects[0]).toEqual({ kind: 'send', event: { type: 'resume', cursors: { 'c-9': 13 } } });
  });

  it('reports session.revoked at once, even during a replay', () => {
    const s = feed(connected({ 'c-1': 0 }), [hello, created(1)]).state;
    expect(receive(s, { type: 'session.revoked' }).effects).toEqual([{ kind: 'revoked' }]);
  });
});

describe('truncated replay', () => {
  it('pages history forward from the cursor until the server has no more', () => {
    // 1,200 missing; the server replays 500 of them and says where it stopped.
    let s = feed(connected({ 'c-1': 100 }), [hello]).state;
    const replay = Array.from({ length: 500 }, (_, i) => created(101 + i));
    let step = feed(s, [...replay, { type: 'resume.truncated', conversation_id: 'c-1', from_seq: 601 }, done]);
    expect(shown(step.effects)).toHaveLength(500);
    expect(step.effects.filter((e) => e.kind === 'fetchHistory')).toEqual([{ kind: 'fetchHistory', conversationId: 'c-1', afterSeq: 600 }]);
    s = step.state;

    // A live message arrives while the gap is being filled: shown now, held above the gap.
    step = feed(s, [created(1301)]);
    expect(shown(step.effects)).toEqual(['c-1:1301']);
    expect(step.effects.some((e) => e.kind === 'fetchHistory')).toBe(false); // already filling
    s = step.state;

    const page1 = Array.from({ length: 200 }, (_, i) => message(601 + i));
    const p1 = historyPage(s, 'c-1', page1, true);
    expect(p1.effects).toContainEqual({ kind: 'fetchHistory', conversationId: 'c-1', afterSeq: 800 });
    expect(p1.effects[0]).toMatchObject({ kind: 'messages', source: 'history' });

    const page2 = Array.from({ length: 500 }, (_, i) => message(801 + i));
    const p2 = historyPage(p1.state, 'c-1', page2, false);
    expect(p2.effects.some((e) => e.kind === 'fetchHistory')).toBe(false);
    expect(p2.state.cursors['c-1']).toBe(1301);
    expect(p2.state.ahead['c-1']).toBeUndefined();
    expect(p2.state.filling['c-1']).toBeUndefined();
  });

  it('fills the gap below a replay of the newest messages too', () => {
    // A server that replays the latest 500 instead: 601..1100 arrive, 101..600 are missing.
    let s = feed(connected({ 'c-1': 100 }), [hello]).state;
    const replay = Array.from({ length: 500 }, (_, i) => created(601 + i));
    const step = feed(s, [{ type: 'resume.truncated', conversation_id: 'c-1', from_seq: 601 }, ...replay, done]);
    expect(step.effects.filter((e) => e.kind === 'fetchHistory')).toEqual([{ kind: 'fetchHistory', conversationId: 'c-1', afterSeq: 100 }]);
    s = step.state;
    expect(s.cursors['c-1']).toBe(100);

    const fill = historyPage(s, 'c-1', Array.from({ length: 500 }, (_, i) => message(101 + i)), true);
    expect(fill.state.cursors['c-1']).toBe(1100);
    expect(fill.effects).toContainEqual({ kind: 'fetchHistory', conversationId: 'c-1', afterSeq: 1100 });
    const end = historyPage(fill.state, 'c-1', [], false);
    expect(end.effects).toEqual([]);
    expect(end.state.filling).toEqual({});
  });

  it('fills a gap seen live in a conversation it follows', () => {
    const live = feed(connected({ 'c-1': 5 }), [hello, done]).state;
    const { effects, state } = feed(live, [created(8)]);
    expect(shown(effects)).toEqual(['c-1:8']);
    expect(effects).toContainEqual({ kind: 'fetchHistory', conversationId: 'c-1', afterSeq: 5 });
    const filled = historyPage(state, 'c-1', [message(6), message(7), message(8)], false);
    expect(filled.state.cursors['c-1']).toBe(8);
    // 8 came live already; a replay of it later is still a duplicate.
    expect(shown(feed(filled.state, [created(8), created(9)]).effects)).toEqual(['c-1:9']);
  });
});

describe('silent copies', () => {
  it('passes "silent" on with a live message for someone off duty, and only then', () => {
    let s = receive(knowConversation(initialState(), 'c1', 0), { type: 'hello', user_id: 'u', server_time: '' }).state;
    s = receive(s, { type: 'resume.done' }).state;
    const m = (seq: number) => ({ id: `m${seq}`, conversation_id: 'c1', seq, sender_id: 'x', client_id: `k${seq}`, body: 'b', priority: 'routine' as const, requires_ack: false, created_at: '', edited_at: null, deleted: false });
    const quiet = receive(s, { type: 'message.created', message: m(1), silent: true });
    expect(quiet.effects).toEqual([{ kind: 'messages', source: 'live', messages: [m(1)], silent: true }]);
    const loud = receive(quiet.state, { type: 'message.created', message: m(2) });
    expect(loud.effects).toEqual([{ kind: 'messages', source: 'live', messages: [m(2)] }]);
  });
});
