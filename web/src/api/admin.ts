// The admin console's calls (API.md "Administration"); the server allows them to org admins only.
import { request } from './client';
import type { CreatedStaff, DeviceSession, NewStaff, Page, Policy, User, UserStatus } from './types';

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

export function userSessions(userId: string): Promise<Page<DeviceSession>> {
  return request<Page<DeviceSession>>(`/admin/users/${encodeURIComponent(userId)}/sessions`);
}

export function endUserSession(userId: string, sessionId: string): Promise<void> {
  return request<void>(`/admin/users/${encodeURIComponent(userId)}/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE' });
}

export function endAllUserSessions(userId: string): Promise<void> {
  return request<void>(`/admin/users/${encodeURIComponent(userId)}/sessions/revoke-all`, { method: 'POST' });
}

/** A new initial password, shown once; the person must change it at their next sign-in. */
export function resetPassword(userId: string): Promise<{ initial_password: string }> {
  return request(`/admin/users/${encodeURIComponent(userId)}/reset-password`, { method: 'POST' });
}

/** Removes the person's authenticator app, recovery codes, passkeys and PIN, and signs them out. */
export function resetMfa(userId: string): Promise<void> {
  return request<void>(`/admin/users/${encodeURIComponent(userId)}/reset-mfa`, { method: 'POST' });
}

export function getPolicy(): Promise<Policy> {
  return request<Policy>('/admin/policy');
}

export function updatePolicy(change: Partial<Policy>): Promise<Policy> {
  return request<Policy>('/admin/policy', { method: 'PATCH', body: change });
}
