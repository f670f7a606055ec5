import { describe, expect, it } from 'vitest';
import { conversation, member, message, user } from '../../test/fakeServer';
import { type ChatState, chatReducer, emptyChat } from './chat';
import { lastActivity, messagesOf, personName } from './selectors';

function signedIn(): ChatState {
  let s = chatReducer(emptyChat, { type: 'signedIn', me: user() });
  s = chatReducer(s, { type: 'conversations', items: [conversation({ id: 'c-1', last_seq: 10 }), conversation({ id: 'c-2', last_seq: 4 })] });
  return s;
}

describe('chatReducer', () => {
  it('counts live messages from others as unread, except in the conversation on screen', () => {
    let s = signedIn();
    s = chatReducer(s, { type: 'messages', live: true, messages: [message(11), message(12, { sender_id: 'u-me' })] });
    expect(s.conversations['c-1']).toMatchObject({ unread_count: 1, last_seq: 12 });
    s = chatReducer(s, { type: 'viewing', conversationId: 'c-1' });
    s = chatReducer(s, { type: 'messages', live: true, messages: [message(13)] });
    expect(s.conversations['c-1']!.unread_count).toBe(1);
    s = chatReducer(s, { type: 'markedRead', conversationId: 'c-1', seq: 13 });
    expect(s.conversations['c-1']!.unread_count).toBe(0);
  });

  it('moves the conversation with the newest message to the top', () => {
    const s = chatReducer(signedIn(), { type: 'messages', live: true, messages: [message(5, { conversation_id: 'c-2' })] });
    expect(s.order).toEqual(['c-2', 'c-1']);
  });

  it('clears unread when my read receipt from another device covers the newest message', () => {
    let s = chatReducer(signedIn(), { type: 'conversation', conversation: conversation({ id: 'c-1', last_seq: 10, unread_count: 3 }) });
    s = chatReducer(s, { type: 'receipt', conversationId: 'c-1', messageId: 'm', seq: 9, userId: 'u-me', kind: 'read', at: '' });
    expect(s.conversations['c-1']!.unread_count).toBe(3);
    s = chatReducer(s, { type: 'receipt', conversationId: 'c-1', messageId: 'm', seq: 10, userId: 'u-me', kind: 'read', at: '' });
    expect(s.conversations['c-1']!.unread_count).toBe(0);
  });

  it('keeps the message window free of holes when the latest page does not reach what it held', () => {
    let s = chatReducer(signedIn(), { type: 'messages', live: true, messages: [message(3)] });
    s = chatReducer(s, { type: 'history', conversationId: 'c-1', latest: true, hasMore: true, messages: [message(51), message(52)] });
    expect(messagesOf(s, 'c-1').map((m) => m.seq)).toEqual([51, 52]);
    s = chatReducer(s, { type: 'history', conversationId: 'c-1', latest: false, hasMore: false, messages: [message(49), message(50)] });
    expect(messagesOf(s, 'c-1').map((m) => m.seq)).toEqual([49, 50, 51, 52]);
    expect(s.windows['c-1']!.hasMoreBefore).toBe(false);
  });

  it('replaces a pending send when the stored message arrives, by client_id', () => {
    let s = signedIn();
    s = chatReducer(s, { type: 'pending', conversationId: 'c-1', pending: { client_id: 'k1', body: 'hi', priority: 'routine', requires_ack: false, failed: false } });
    s = chatReducer(s, { type: 'messages', live: true, messages: [message(11, { client_id: 'k1', sender_id: 'u-me' })] });
    expect(s.windows['c-1']!.pending).toEqual([]);
    expect(messagesOf(s, 'c-1')).toHaveLength(1);
  });

  it('applies an edit or deletion only to a message it shows', () => {
    let s = chatReducer(signedIn(), { type: 'history', conversationId: 'c-1', latest: true, hasMore: false, messages: [message(1)] });
    s = chatReducer(s, { type: 'messageUpdated', message: message(1, { body: '', deleted: true }) });
    s = chatReducer(s, { type: 'messageUpdated', message: message(7, { body: 'not loaded' }) });
    expect(messagesOf(s, 'c-1').map((m) => [m.seq, m.deleted])).toEqual([[1, true]]);
  });

  it('drops a conversation I am no longer a member of', () => {
    const s = chatReducer(signedIn(), {
      type: 'conversation',
      conversation: conversation({ id: 'c-1', members: [member('u-bob', 'owner')] }),
    });
    expect(s.conversations['c-1']).toBeUndefined();
    expect(s.order).toEqual(['c-2']);
  });

  it('knows members by the names their conversations carry', () => {
    let s = signedIn();
    expect(personName(s, 'u-bob')).toBe('Bob Nurse');
    expect(s.people['u-cat']).toMatchObject({ display_name: 'Cat Pharm', job_title: 'Pharmacist' });
    const renamed = { ...member('u-dan'), display_name: 'Dan Porter', job_title: 'Porter' };
    s = chatReducer(s, { type: 'conversation', conversation: conversation({ id: 'c-3', members: [member('u-me', 'owner'), renamed] }) });
    expect(personName(s, 'u-dan')).toBe('Dan Porter');
    expect(personName(s, 'u-gone')).toBe('Former or unknown member');
  });

  it('shows the later of the server\'s last activity and the newest message seen', () => {
    let s = signedIn();
    const c = conversation({ id: 'c-1', created_at: '2026-01-01T08:00:00Z', last_activity_at: '2026-01-01T09:30:00.123456Z' });
    expect(lastActivity(s, c)).toBe('2026-01-01T09:30:00.123456Z');
    s = chatReducer(s, { type: 'messages', live: true, messages: [message(11, { created_at: '2026-01-01T09:45:00Z' })] });
    expect(lastActivity(s, c)).toBe('2026-01-01T09:45:00Z');
    expect(lastActivity(s, { ...c, last_activity_at: '2026-01-01T10:00:00.5Z' })).toBe('2026-01-01T10:00:00.5Z');
  });

  it('drops the messages of a conversation missing from a fresh list', () => {
    let s = chatReducer(signedIn(), { type: 'messages', live: true, messages: [message(11), message(5, { conversation_id: 'c-2' })] });
    s = chatReducer(s, { type: 'conversations', items: [conversation({ id: 'c-2', last_seq: 5 })] });
    expect(Object.keys(s.conversations)).toEqual(['c-2']);
    expect(Object.keys(s.windows)).toEqual(['c-2']);
  });

  it('forgets everything on reset', () => {
    const s = chatReducer(chatReducer(signedIn(), { type: 'messages', live: true, messages: [message(11)] }), { type: 'reset' });
    expect(s).toEqual(emptyChat);
  });
});
