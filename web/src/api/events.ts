// The event stream's resume logic as a pure state machine, so it can be tested without a socket.
//
// Per conversation the machine keeps a cursor: the highest seq up to which the app holds every
// message the stream could have told it about (it starts at the conversation's last_seq when the
// app first learns of it; older history is loaded on demand by the conversation screen). After
// `hello` it asks the server to replay everything after those cursors, holds every event until
// `resume.done`, then hands the replay over deduplicated and in seq order, followed by the held
// live events. A `resume.truncated` conversation, or a gap seen live, is filled by paging history
// forward from the cursor. Nothing here touches the network: the caller carries out the effects.

import type { Conversation, Message } from './types';

export type ReceiptKind = 'delivered' | 'read' | 'acked';

export interface ReceiptEvent {
  conversation_id: string;
  message_id: string;
  seq: number;
  user_id: string;
  kind: ReceiptKind;
  at: string;
}

export type ServerEvent =
  | { type: 'hello'; user_id: string; server_time: string }
  | { type: 'message.created'; message: Message }
  | { type: 'message.updated'; message: Message }
  | ({ type: 'receipt' } & ReceiptEvent)
  /** One delivery flush's receipts of a conversation (the stream asks with ?receipts=batched). */
  | { type: 'receipts'; conversation_id: string; receipts: ReceiptEvent[] }
  | { type: 'conversation.updated'; conversation: Conversation }
  | { type: 'session.revoked' }
  | { type: 'session.locked' }
  | { type: 'session.unlocked' }
  | { type: 'resume.done' }
  | { type: 'resume.truncated'; conversation_id: string; from_seq: number };

/** Any event the client does not know yet (later features) passes through untouched. */
export type AnyServerEvent = ServerEvent | { type: string; [key: string]: unknown };

export type ClientEvent = { type: 'resume'; cursors: Record<string, number> };

export type Phase = 'offline' | 'connecting' | 'resuming' | 'live';

export type MessageSource = 'replay' | 'live' | 'history';

export type Effect =
  | { kind: 'send'; event: ClientEvent }
  /** Messages to show, in seq order per conversation; stream ones are never repeated. */
  | { kind: 'messages'; source: MessageSource; messages: Message[]; silent?: boolean }
  /** Any other event to apply: edits, receipts, conversation changes, later event types. */
  | { kind: 'event'; event: AnyServerEvent }
  /** Page history forward from afterSeq and give each page to historyPage(). */
  | { kind: 'fetchHistory'; conversationId: string; afterSeq: number }
  | { kind: 'revoked' }
  /** The session locked or unlocked (this tab, another tab of the browser, the server). */
  | { kind: 'lock'; locked: boolean };

export interface StreamState {
  readonly phase: Phase;
  /** Highest contiguous seq held per conversation: what `resume` sends. */
  readonly cursors: Readonly<Record<string, number>>;
  /** Seqs held above a gap (after truncation or a live gap), sorted ascending. */
  readonly ahead: Readonly<Record<string, readonly number[]>>;
  /** Everything received between hello and resume.done. */
  readonly held: readonly AnyServerEvent[];
  /** Conversations the current replay truncated. */
  readonly truncated: Readonly<Record<string, number>>;
  /** Conversations whose gap is being paged through history. */
  readonly filling: Readonly<Record<string, true>>;
}

export interface Step {
  state: StreamState;
  effects: Effect[];
}

export function initialState(): StreamState {
  return { phase: 'offline', cursors: {}, ahead: {}, held: [], truncated: {}, filling: {} };
}

/** The app learnt of a conversation (list, creation): it is caught up to lastSeq from here on. */
export function knowConversation(state: StreamState, conversationId: string, lastSeq: number): StreamState {
  if (conversationId in state.cursors) return state;
  return { ...state, cursors: { ...state.cursors, [conversationId]: lastSeq } };
}

export function connecting(state: StreamState): StreamState {
  return { ...state, phase: 'connecting', held: [], truncated: {} };
}

/** The socket closed. Held events are dropped: cursors did not move, so the next resume replays them. */
export function disconnected(state: StreamState): StreamState {
  return { ...state, phase: 'offline', held: [], truncated: {} };
}

/** Whether the stream already gave the app this message. */
export function isHeld(state: StreamState, conversationId: string, seq: number): boolean {
  const cursor = state.cursors[conversationId];
  if (cursor !== undefined && seq <= cursor) return true;
  return (state.ahead[conversationId] ?? []).includes(seq);
}

// Records seq as held and advances the cursor over anything now contiguous.
function absorb(state: StreamState, conversationId: string, seq: number): StreamState {
  const cursor = state.cursors[conversationId] ?? seq - 1;
  if (seq <= cursor) return state;
  const ahead = [...(state.ahead[conversationId] ?? [])];
  let next = cursor;
  if (seq === cursor + 1) {
    next = seq;
  } else if (!ahead.includes(seq)) {
    ahead.push(seq);
    ahead.sort((a, b) => a - b);
  }
  while (ahead.length > 0 && ahead[0]! <= next + 1) next = Math.max(next, ahead.shift()!);
  const aheadMap = { ...state.ahead };
  if (ahead.length > 0) aheadMap[conversationId] = ahead;
  else delete aheadMap[conversationId];
  return { ...state, cursors: { ...state.cursors, [conversationId]: next }, ahead: aheadMap };
}

function hasGap(state: StreamState, conversationId: string): boolean {
  return (state.ahead[conversationId]?.length ?? 0) > 0;
}

function startFill(state: StreamState, conversationId: string, effects: Effect[]): StreamState {
  if (state.filling[conversationId]) return state;
  effects.push({ kind: 'fetchHistory', conversationId, afterSeq: state.cursors[conversationId] ?? 0 });
  return { ...state, filling: { ...state.filling, [conversationId]: true } };
}

// Takes stream messages, drops the ones already held, and returns the rest in seq order.
function admit(state: StreamState, messages: Message[]): { state: StreamState; fresh: Message[] } {
  const sorted = [...messages].sort((a, b) =>
    a.conversation_id === b.conversation_id ? a.seq - b.seq : a.conversation_id < b.conversation_id ? -1 : 1,
  );
  const fresh: Message[] = [];
  let s = state;
  for (const m of sorted) {
    if (isHeld(s, m.conversation_id, m.seq)) continue;
    s = absorb(s, m.conversation_id, m.seq);
    fresh.push(m);
  }
  return { state: s, fresh };
}

function finishResume(state: StreamState): Step {
  const effects: Effect[] = [];
  const replay: Message[] = [];
  const rest: AnyServerEvent[] = [];
  for (const e of state.held) {
    if (e.type === 'message.created') replay.push((e as { message: Message }).message);
    else rest.push(e);
  }
  const admitted = admit({ ...state, held: [] }, replay);
  let s: StreamState = { ...admitted.state, phase: 'live' };
  if (admitted.fresh.length > 0) effects.push({ kind: 'messages', source: 'replay', messages: admitted.fresh });
  for (const e of rest) {
    const step = receiveLive(s, e);
    s = step.state;
    effects.push(...step.effects);
  }
  for (const id of Object.keys(s.truncated)) s = startFill(s, id, effects);
  return { state: { ...s, truncated: {} }, effects };
}

function receiveLive(state: StreamState, event: AnyServerEvent): Step {
  switch (event.type) {
    case 'message.created': {
      const m = (event as { message: Message }).message;
      const known = m.conversation_id in state.cursors;
      const { state: s, fresh } = admit(state, [m]);
      // "silent": this copy is for someone off duty (shown, but without an alert).
      const silent = (event as { silent?: boolean }).silent === true;
      const effects: Effect[] = fresh.length > 0 ? [{ kind: 'messages', source: 'live', messages: fresh, ...(silent ? { silent } : {}) }] : [];
      // A gap in a conversation the app already followed means the stream missed something.
      return { state: known && hasGap(s, m.conversation_id) ? startFill(s, m.conversation_id, effects) : s, effects };
    }
    case 'conversation.updated': {
      const c = (event as { conversation: Conversation }).conversation;
      return { state: knowConversation(state, c.id, c.last_seq), effects: [{ kind: 'event', event }] };
    }
    case 'session.revoked':
      return { state, effects: [{ kind: 'revoked' }] };
    case 'hello':
    case 'resume.done':
    case 'resume.truncated':
      return { state, effects: [] };
    default:
      return { state, effects: [{ kind: 'event', event }] };
  }
}

/** Feeds one event from the socket through the machine. */
export function receive(state: StreamState, event: AnyServerEvent): Step {
  // A revoked session wins over everything, even in the middle of a replay.
  if (event.type === 'session.revoked') return { state, effects: [{ kind: 'revoked' }] };
  // Locking is never held back: a stream that connects to a locked session says hello, then
  // session.locked, and answers the resume only after the unlock.
  if (event.type === 'session.locked' || event.type === 'session.unlocked') {
    return { state, effects: [{ kind: 'lock', locked: event.type === 'session.locked' }] };
  }

  if (state.phase === 'connecting' || state.phase === 'offline') {
    if (event.type !== 'hello') return { state, effects: [] };
    return {
      state: { ...state, phase: 'resuming', held: [], truncated: {} },
      effects: [{ kind: 'send', event: { type: 'resume', cursors: { ...state.cursors } } }],
    };
  }

  if (state.phase === 'resuming') {
    if (event.type === 'resume.done') return finishResume(state);
    if (event.type === 'resume.truncated') {
      const e = event as { conversation_id: string; from_seq: number };
      return { state: { ...state, truncated: { ...state.truncated, [e.conversation_id]: e.from_seq } }, effects: [] };
    }
    return { state: { ...state, held: [...state.held, event] }, effects: [] };
  }

  return receiveLive(state, event);
}

/**
 * One page of history fetched for a fill. Every message is handed on (history holds the current
 * state: edits, deletions); the cursor advances over what is now contiguous, and another page is
 * asked for while the server says there is more.
 */
export function historyPage(state: StreamState, conversationId: string, messages: Message[], hasMore: boolean): Step {
  let s = state;
  const sorted = [...messages].sort((a, b) => a.seq - b.seq);
  for (const m of sorted) s = absorb(s, conversationId, m.seq);
  const effects: Effect[] = sorted.length > 0 ? [{ kind: 'messages', source: 'history', messages: sorted }] : [];
  const filling = { ...s.filling };
  delete filling[conversationId];
  s = { ...s, filling };
  // An empty page that claims more would loop forever; the next resume tries again instead.
  if (hasMore && sorted.length > 0) s = startFill(s, conversationId, effects);
  return { state: s, effects };
}

/** A fill failed (network); the next resume or live gap starts it again. */
export function historyFailed(state: StreamState, conversationId: string): StreamState {
  const filling = { ...state.filling };
  delete filling[conversationId];
  return { ...state, filling };
}
