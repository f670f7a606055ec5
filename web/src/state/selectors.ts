// Derived facts the screens show: names, titles, ticks, what still needs acknowledging.

import type { Conversation, Message } from '../api/types';
import type { ChatState } from './chat';

export function personName(s: ChatState, userId: string): string {
  return s.people[userId]?.display_name ?? 'Former or unknown member';
}

export function otherMembers(s: ChatState, c: Conversation): string[] {
  return c.members.map((m) => m.user_id).filter((id) => id !== s.me?.id);
}

export function conversationTitle(s: ChatState, c: Conversation): string {
  if (c.kind === 'direct') {
    const other = otherMembers(s, c)[0];
    return other ? personName(s, other) : 'Direct message';
  }
  if (c.title) return c.title;
  const names = otherMembers(s, c)
    .slice(0, 3)
    .map((id) => personName(s, id));
  return names.length > 0 ? names.join(', ') : 'Untitled conversation';
}

export function isOwner(s: ChatState, c: Conversation): boolean {
  return c.members.some((m) => m.user_id === s.me?.id && m.role === 'owner');
}

export function canManageMembers(s: ChatState, c: Conversation): boolean {
  if (c.kind === 'direct') return false;
  return isOwner(s, c) || (c.kind === 'channel' && s.me?.org_role === 'admin');
}

/** A message that asks the signed-in user to acknowledge it and has not been acknowledged by them. */
export function awaitsMyAck(s: ChatState, m: Message): boolean {
  const me = s.me?.id;
  if (!me || !m.requires_ack || m.deleted || m.sender_id === me) return false;
  return !s.acks[m.id]?.[me];
}

/** An urgent or emergency message, in what the app holds, that still waits for my acknowledgement. */
export function hasUnacknowledgedUrgent(s: ChatState, conversationId: string): 'urgent' | 'emergency' | null {
  const w = s.windows[conversationId];
  if (!w) return null;
  let found: 'urgent' | 'emergency' | null = null;
  for (const seq of w.seqs) {
    const m = w.bySeq[seq]!;
    if (m.priority === 'routine' || !awaitsMyAck(s, m)) continue;
    if (m.priority === 'emergency') return 'emergency';
    found = 'urgent';
  }
  return found;
}

export interface Ticks {
  /** 0 sent, 1 delivered to all, 2 read by all. */
  level: 0 | 1 | 2;
  label: string;
  acked: number;
  ackTotal: number;
}

/** Delivered / read / acknowledged state of one of my own messages, from receipts. */
export function ticksFor(s: ChatState, c: Conversation, m: Message): Ticks | null {
  if (m.sender_id !== s.me?.id) return null;
  const others = c.members.map((x) => x.user_id).filter((id) => id !== m.sender_id);
  const marks = s.watermarks[c.id] ?? {};
  const acks = s.acks[m.id] ?? {};
  const total = others.length;
  const delivered = others.filter((id) => (marks[id]?.delivered ?? 0) >= m.seq).length;
  const read = others.filter((id) => (marks[id]?.read ?? 0) >= m.seq).length;
  const acked = others.filter((id) => acks[id]).length;
  let level: Ticks['level'] = 0;
  let label = 'Sent';
  if (total > 0 && read === total) {
    level = 2;
    label = 'Read';
  } else if (total > 0 && delivered === total) {
    level = 1;
    label = read > 0 ? `Delivered, read by ${read} of ${total}` : 'Delivered';
  } else if (delivered > 0) {
    label = `Delivered to ${delivered} of ${total}`;
  }
  return { level, label, acked, ackTotal: total };
}

export function messagesOf(s: ChatState, conversationId: string): Message[] {
  const w = s.windows[conversationId];
  return w ? w.seqs.map((seq) => w.bySeq[seq]!) : [];
}

/** The later of the server's last activity and the newest message the app has seen since. */
export function lastActivity(s: ChatState, c: Conversation): string {
  const server = c.last_activity_at || c.created_at;
  const seen = s.activity[c.id];
  return seen && Date.parse(seen) > Date.parse(server) ? seen : server;
}
