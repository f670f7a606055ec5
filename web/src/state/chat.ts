// Everything the signed-in app holds, in memory only, and the pure reducer that changes it.
// Nothing here is ever written to localStorage, sessionStorage or IndexedDB: signing out or a
// revoked session drops the whole object.

import type { ReceiptKind } from '../api/events';
import type { Conversation, DirectoryPerson, Message, Priority, Receipt, User } from '../api/types';

export type ConnectionStatus = 'offline' | 'connecting' | 'online' | 'reconnecting';

export interface PendingMessage {
  client_id: string;
  body: string;
  priority: Priority;
  requires_ack: boolean;
  failed: boolean;
}

export interface MessageWindow {
  bySeq: Readonly<Record<number, Message>>;
  /** Seqs held, ascending. */
  seqs: readonly number[];
  /** History has been loaded at least once (opening the conversation does it). */
  loaded: boolean;
  hasMoreBefore: boolean;
  pending: readonly PendingMessage[];
}

export interface Watermark {
  delivered: number;
  read: number;
}

export interface Person {
  id: string;
  display_name: string;
  job_title: string;
}

export interface ChatState {
  me: User | null;
  conversations: Readonly<Record<string, Conversation>>;
  /** Conversation ids, most recently active first. */
  order: readonly string[];
  /** Time of the latest message seen per conversation. */
  activity: Readonly<Record<string, string>>;
  windows: Readonly<Record<string, MessageWindow>>;
  /** Per conversation, per member: how far delivered and read go. */
  watermarks: Readonly<Record<string, Readonly<Record<string, Watermark>>>>;
  /** Per message id, per member: when they acknowledged it. */
  acks: Readonly<Record<string, Readonly<Record<string, string>>>>;
  people: Readonly<Record<string, Person>>;
  connection: ConnectionStatus;
  /** The conversation on screen, whose new messages do not count as unread. */
  viewing: string | null;
  /** The latest thing to announce to screen readers (never message text). */
  notice: { id: number; text: string } | null;
}

export const emptyChat: ChatState = {
  me: null,
  conversations: {},
  order: [],
  activity: {},
  windows: {},
  watermarks: {},
  acks: {},
  people: {},
  connection: 'offline',
  viewing: null,
  notice: null,
};

export const emptyWindow: MessageWindow = { bySeq: {}, seqs: [], loaded: false, hasMoreBefore: false, pending: [] };

export type ChatAction =
  | { type: 'reset' }
  | { type: 'signedIn'; me: User }
  | { type: 'conversations'; items: Conversation[] }
  | { type: 'conversation'; conversation: Conversation }
  | { type: 'messages'; messages: Message[]; live: boolean }
  | { type: 'history'; conversationId: string; messages: Message[]; hasMore: boolean; latest: boolean }
  | { type: 'messageUpdated'; message: Message }
  | { type: 'receipt'; conversationId: string; messageId: string; seq: number; userId: string; kind: ReceiptKind; at: string }
  | { type: 'receipts'; message: Message; items: Receipt[] }
  | { type: 'people'; people: DirectoryPerson[] }
  | { type: 'connection'; status: ConnectionStatus }
  | { type: 'viewing'; conversationId: string | null }
  | { type: 'markedRead'; conversationId: string; seq: number }
  | { type: 'pending'; conversationId: string; pending: PendingMessage }
  | { type: 'pendingDone'; conversationId: string; clientId: string }
  | { type: 'announce'; text: string };

function toFront(order: readonly string[], id: string): string[] {
  return [id, ...order.filter((x) => x !== id)];
}

function windowOf(s: ChatState, id: string): MessageWindow {
  return s.windows[id] ?? emptyWindow;
}

// Upserts messages into a window; returns the same window when nothing changed.
function merge(w: MessageWindow, messages: Message[]): MessageWindow {
  if (messages.length === 0) return w;
  const bySeq = { ...w.bySeq };
  for (const m of messages) bySeq[m.seq] = m;
  const seqs = Object.keys(bySeq)
    .map(Number)
    .sort((a, b) => a - b);
  const ids = new Set(messages.map((m) => m.client_id));
  const pending = w.pending.filter((p) => !ids.has(p.client_id));
  return { ...w, bySeq, seqs, pending };
}

function withWatermark(s: ChatState, conversationId: string, userId: string, kind: 'delivered' | 'read', seq: number): ChatState {
  const conv = s.watermarks[conversationId] ?? {};
  const cur = conv[userId] ?? { delivered: 0, read: 0 };
  const next: Watermark =
    kind === 'read'
      ? { read: Math.max(cur.read, seq), delivered: Math.max(cur.delivered, seq) }
      : { ...cur, delivered: Math.max(cur.delivered, seq) };
  if (next.read === cur.read && next.delivered === cur.delivered) return s;
  return { ...s, watermarks: { ...s.watermarks, [conversationId]: { ...conv, [userId]: next } } };
}

function withAck(s: ChatState, messageId: string, userId: string, at: string): ChatState {
  const cur = s.acks[messageId] ?? {};
  if (cur[userId]) return s;
  return { ...s, acks: { ...s.acks, [messageId]: { ...cur, [userId]: at } } };
}

// Members carry their directory names, so knowing a conversation means knowing who is in it.
function withMembers(people: Readonly<Record<string, Person>>, list: readonly Conversation[]): Readonly<Record<string, Person>> {
  let next = people;
  for (const c of list) {
    for (const m of c.members) {
      if (!m.display_name) continue;
      const cur = next[m.user_id];
      if (cur && cur.display_name === m.display_name && cur.job_title === m.job_title) continue;
      if (next === people) next = { ...people };
      (next as Record<string, Person>)[m.user_id] = { id: m.user_id, display_name: m.display_name, job_title: m.job_title ?? '' };
    }
  }
  return next;
}

function isMember(c: Conversation, userId: string | undefined): boolean {
  return userId === undefined || c.members.some((m) => m.user_id === userId);
}

function dropConversation(s: ChatState, id: string): ChatState {
  const conversations = { ...s.conversations };
  const windows = { ...s.windows };
  delete conversations[id];
  delete windows[id];
  return { ...s, conversations, windows, order: s.order.filter((x) => x !== id) };
}

function applyMessages(s: ChatState, messages: Message[], live: boolean): ChatState {
  let next = s;
  const byConv = new Map<string, Message[]>();
  for (const m of messages) byConv.set(m.conversation_id, [...(byConv.get(m.conversation_id) ?? []), m]);
  for (const [id, list] of byConv) {
    const conv = next.conversations[id];
    const newest = list[list.length - 1]!;
    next = { ...next, windows: { ...next.windows, [id]: merge(windowOf(next, id), list) } };
    next = { ...next, order: toFront(next.order, id), activity: { ...next.activity, [id]: newest.created_at } };
    if (conv) {
      const fromOthers = live && id !== next.viewing ? list.filter((m) => m.sender_id !== next.me?.id).length : 0;
      next = {
        ...next,
        conversations: {
          ...next.conversations,
          [id]: { ...conv, last_seq: Math.max(conv.last_seq, newest.seq), unread_count: conv.unread_count + fromOthers },
        },
      };
    }
  }
  return next;
}

export function chatReducer(s: ChatState, a: ChatAction): ChatState {
  switch (a.type) {
    case 'reset':
      return emptyChat;
    case 'signedIn':
      return { ...emptyChat, me: a.me, people: { [a.me.id]: { id: a.me.id, display_name: a.me.display_name, job_title: a.me.job_title } } };
    case 'conversations': {
      const conversations: Record<string, Conversation> = {};
      for (const c of a.items) conversations[c.id] = c;
      // A conversation missing from a fresh list is one I left or was removed from while the
      // stream was down (that change is not replayed): its messages go from memory too.
      const windows: Record<string, MessageWindow> = {};
      for (const [id, w] of Object.entries(s.windows)) if (conversations[id]) windows[id] = w;
      return { ...s, conversations, windows, order: a.items.map((c) => c.id), people: withMembers(s.people, a.items) };
    }
    case 'conversation': {
      const c = a.conversation;
      if (!isMember(c, s.me?.id)) return dropConversation(s, c.id);
      const known = s.conversations[c.id];
      // The server's unread count is current when it sends the conversation.
      const merged = known ? { ...c, last_seq: Math.max(c.last_seq, known.last_seq) } : c;
      return {
        ...s,
        conversations: { ...s.conversations, [c.id]: merged },
        order: known ? s.order : toFront(s.order, c.id),
        people: withMembers(s.people, [c]),
      };
    }
    case 'messages':
      return applyMessages(s, a.messages, a.live);
    case 'history': {
      let w = windowOf(s, a.conversationId);
      if (a.latest && a.messages.length > 0) {
        // Keep only what joins the fresh page, so the window never has a hole in it.
        const lowest = a.messages[0]!.seq;
        const bySeq: Record<number, Message> = {};
        for (const seq of w.seqs) if (seq >= lowest) bySeq[seq] = w.bySeq[seq]!;
        w = { ...w, bySeq, seqs: w.seqs.filter((x) => x >= lowest) };
      }
      w = merge(w, a.messages);
      w = { ...w, loaded: true, hasMoreBefore: a.hasMore };
      return { ...s, windows: { ...s.windows, [a.conversationId]: w } };
    }
    case 'messageUpdated': {
      const m = a.message;
      const w = s.windows[m.conversation_id];
      if (!w || !(m.seq in w.bySeq)) return s; // not on screen: history shows it as it is now
      return { ...s, windows: { ...s.windows, [m.conversation_id]: merge(w, [m]) } };
    }
    case 'receipt': {
      let next = s;
      if (a.kind === 'acked') next = withAck(next, a.messageId, a.userId, a.at);
      else next = withWatermark(next, a.conversationId, a.userId, a.kind, a.seq);
      const conv = next.conversations[a.conversationId];
      if (a.kind === 'read' && a.userId === s.me?.id && conv && a.seq >= conv.last_seq && conv.unread_count !== 0) {
        next = { ...next, conversations: { ...next.conversations, [conv.id]: { ...conv, unread_count: 0 } } };
      }
      return next;
    }
    case 'receipts': {
      let next = s;
      const m = a.message;
      for (const r of a.items) {
        if (r.delivered_at) next = withWatermark(next, m.conversation_id, r.user_id, 'delivered', m.seq);
        if (r.read_at) next = withWatermark(next, m.conversation_id, r.user_id, 'read', m.seq);
        if (r.acked_at) next = withAck(next, m.id, r.user_id, r.acked_at);
      }
      return next;
    }
    case 'people': {
      const people = { ...s.people };
      for (const p of a.people) people[p.id] = { id: p.id, display_name: p.display_name, job_title: p.job_title };
      return { ...s, people };
    }
    case 'connection':
      return s.connection === a.status ? s : { ...s, connection: a.status };
    case 'viewing':
      return { ...s, viewing: a.conversationId };
    case 'markedRead': {
      const conv = s.conversations[a.conversationId];
      if (!conv) return s;
      return { ...s, conversations: { ...s.conversations, [conv.id]: { ...conv, unread_count: 0 } } };
    }
    case 'pending': {
      const w = windowOf(s, a.conversationId);
      const pending = [...w.pending.filter((p) => p.client_id !== a.pending.client_id), a.pending];
      return { ...s, windows: { ...s.windows, [a.conversationId]: { ...w, pending } } };
    }
    case 'announce':
      return { ...s, notice: { id: (s.notice?.id ?? 0) + 1, text: a.text } };
    case 'pendingDone': {
      const w = windowOf(s, a.conversationId);
      const pending = w.pending.filter((p) => p.client_id !== a.clientId);
      return { ...s, windows: { ...s.windows, [a.conversationId]: { ...w, pending } } };
    }
  }
}
