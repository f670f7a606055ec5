// The admin console's calls (API.md "Administration"); the server allows them to org admins only.
import { request } from './client';
import type { CreatedStaff, NewStaff, Page, User, UserStatus } from './types';

export function listStaff(q: string, status: UserStatus | '', cursor?: string): Promise<Page<User>> {
  return request<Page<User>>('/admin/users', { query: { q, status, cursor, limit: 50 } });
}

export function createStaff(staff: NewStaff): Promise<CreatedStaff> {
  return request<CreatedStaff>('/admin/users', { method: 'POST', body: staff });
}

export type StaffAction = 'suspend' | 'reinstate' | 'offboard';

export function actOnStaff(userId: string, action: StaffAction): Promise<void> {
  return request<void>(`/admin/users/${encodeURIComponent(userId)}/${action}`, { method: 'POST' });
}
