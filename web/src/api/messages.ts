// Messages, read marks, acknowledgements and receipts (API.md "Messages").
import { request } from './client';
import type { Message, MessagePage, Priority, Receipt } from './types';

const base = (conversationId: string) => `/conversations/${encodeURIComponent(conversationId)}`;

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
}

export function getHistory(conversationId: string, q: HistoryQuery = {}): Promise<MessagePage> {
  return request<MessagePage>(`${base(conversationId)}/messages`, {
    query: { after_seq: q.afterSeq, before_seq: q.beforeSeq, limit: q.limit },
  });
}

export interface NewMessage {
  client_id: string;
  body: string;
  priority: Priority;
  requires_ack: boolean;
}

export function sendMessage(conversationId: string, msg: NewMessage): Promise<Message> {
  return request<Message>(`${base(conversationId)}/messages`, { method: 'POST', body: msg });
}

export function editMessage(conversationId: string, messageId: string, body: string): Promise<Message> {
  return request<Message>(`${base(conversationId)}/messages/${encodeURIComponent(messageId)}`, {
    method: 'PATCH',
    body: { body },
  });
}

export function deleteMessage(conversationId: string, messageId: string): Promise<void> {
  return request<void>(`${base(conversationId)}/messages/${encodeURIComponent(messageId)}`, { method: 'DELETE' });
}

export function markRead(conversationId: string, seq: number): Promise<void> {
  return request<void>(`${base(conversationId)}/read`, { method: 'POST', body: { seq } });
}

export function acknowledge(conversationId: string, messageId: string): Promise<void> {
  return request<void>(`${base(conversationId)}/messages/${encodeURIComponent(messageId)}/ack`, { method: 'POST' });
}

export function getReceipts(conversationId: string, messageId: string): Promise<{ items: Receipt[] }> {
  return request<{ items: Receipt[] }>(`${base(conversationId)}/messages/${encodeURIComponent(messageId)}/receipts`);
}
