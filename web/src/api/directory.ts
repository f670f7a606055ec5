// The organisation's directory: the only people who can ever be added to a conversation.
import { request } from './client';
import type { DirectoryEntry, Page } from './types';

export function searchDirectory(q: string, cursor?: string, limit = 50): Promise<Page<DirectoryEntry>> {
  return request<Page<DirectoryEntry>>('/directory', { query: { q, cursor, limit } });
}
