import { describe, expect, it } from 'vitest';
import type { Conversation, Message } from '../api/types';
import { type ChatState, chatReducer, emptyChat } from '../state/chat';
import { emptyClinical } from '../state/clinical';
import { filterConversations, noFilters, urgentMark } from './filters';

const me = { id: 'me', email: '', display_name: 'Me', org_id: 'o', job_title: '', profession: '', registration: '', org_role: 'member', status: 'active' } as const;
const conv = (id: string, title: string, extra: Record<string, unknown> = {}): Conversation =>
  ({
    id,
    kind: 'group',
    title,
    created_at: '2026-01-01T00:00:00Z',
    created_by: 'me',
    members: [
      { user_id: 'me', role: 'owner', joined_at: '', display_name: 'Me', job_title: '' },
      { user_id: 'tom', role: 'member', joined_at: '', display_name: 'Tom', job_title: '' },
    ],
    last_seq: 0,
    unread_count: 0,
    patient_id: null,
    last_activity_at: '2026-01-01T00:00:00Z',
    status: 'open',
    category: null,
    ...extra,
  }) as Conversation;
const msg = (c: string, seq: number, sender: string, priority: Message['priority'], extra: Record<string, unknown> = {}): Message =>
  ({ id: `${c}-${seq}`, conversation_id: c, seq, sender_id: sender, client_id: `k${seq}`, body: 'x', priority, requires_ack: priority !== 'routine', created_at: '', edited_at: null, deleted: false, ...extra }) as Message;

function state(): { chat: ChatState; list: Conversation[] } {
  const list = [
    conv('a', 'Bay 3 handover', { category: 'handover' }),
    conv('b', 'Bed 12 review', { patient_id: 'p1', category: 'clinical' }),
    conv('c', 'Rota swap', { status: 'resolved', category: 'admin' }),
    conv('d', 'Night team'),
    conv('e', 'Pharmacy'),
  ];
  let chat = chatReducer(emptyChat, { type: 'signedIn', me });
  chat = chatReducer(chat, { type: 'conversations', items: list });
  chat = chatReducer(chat, { type: 'messages', live: true, messages: [msg('d', 1, 'tom', 'emergency')] });
  chat = chatReducer(chat, { type: 'messages', live: false, messages: [msg('e', 1, 'me', 'urgent', { escalation: { state: 'pending', step: 0, next_at: null, notified: ['tom'] } })] });
  return { chat, list };
}

const ids = (l: Conversation[]) => l.map((c) => c.id).sort();

describe('conversation list filters', () => {
  it('filters by status, category, patient and title', () => {
    const { chat, list } = state();
    expect(ids(filterConversations(chat, emptyClinical, list, noFilters))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, status: 'resolved' }))).toEqual(['c']);
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, status: 'open' }))).toEqual(['a', 'b', 'd', 'e']);
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, category: 'clinical' }))).toEqual(['b']);
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, category: 'none' }))).toEqual(['d', 'e']);
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, patientOnly: true }))).toEqual(['b']);
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, query: 'BAY' }))).toEqual(['a']);
  });

  it('marks urgent: waiting for my acknowledgement, or mine still escalating', () => {
    const { chat, list } = state();
    expect(ids(filterConversations(chat, emptyClinical, list, { ...noFilters, urgentOnly: true }))).toEqual(['d', 'e']);
    expect(urgentMark(chat, emptyClinical, list[3]!)).toEqual({ priority: 'emergency', reason: 'awaits-me' });
    expect(urgentMark(chat, emptyClinical, list[4]!)).toEqual({ priority: 'urgent', reason: 'awaits-others' });
    // Once the escalation event says acknowledged, mine is no longer marked.
    const acked = { ...emptyClinical, escalations: { 'e-1': { state: 'acknowledged' as const, step: 0, next_at: null, notified: [] } } };
    expect(urgentMark(chat, acked, list[4]!)).toBeNull();
  });
});
