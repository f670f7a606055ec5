// Conversations and their members (API.md "Conversations").
import { request, requestAll } from './client';
import type { Conversation, ConversationKind } from './types';

/** Every conversation of the caller, following next_cursor to the end. */
export function listAllConversations(): Promise<Conversation[]> {
  return requestAll<Conversation>('/conversations');
}

export function getConversation(id: string): Promise<Conversation> {
  return request<Conversation>(`/conversations/${encodeURIComponent(id)}`);
}

export function createConversation(kind: ConversationKind, title: string, memberIds: string[]): Promise<Conversation> {
  return request<Conversation>('/conversations', { method: 'POST', body: { kind, title, member_ids: memberIds } });
}

export function addMember(conversationId: string, userId: string): Promise<void> {
  return request<void>(`/conversations/${encodeURIComponent(conversationId)}/members`, {
    method: 'POST',
    body: { user_id: userId },
  });
}

export function removeMember(conversationId: string, userId: string): Promise<void> {
  return request<void>(`/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(userId)}`, {
    method: 'DELETE',
  });
}
