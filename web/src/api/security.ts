// The caller's own security (API.md "Authentication"): second factors, passkeys, PIN, screen
// lock, and the devices signed in.
import { request } from './client';
import type { DeviceSession, Page, Passkey, PublicKeyJSON, Security } from './types';

export function getSecurity(): Promise<Security> {
  // Allowed while locked or enrolling: it says which screen to show.
  return request<Security>('/me/security');
}

export function removeTotp(): Promise<void> {
  return request<void>('/me/totp', { method: 'DELETE' });
}

export function newRecoveryCodes(): Promise<{ recovery_codes: string[] }> {
  return request('/me/recovery-codes', { method: 'POST' });
}

export function beginPasskeyRegistration(): Promise<{ public_key: PublicKeyJSON }> {
  return request('/me/passkeys/begin', { method: 'POST' });
}

export function finishPasskeyRegistration(name: string, credential: Record<string, unknown>): Promise<Passkey> {
  return request<Passkey>('/me/passkeys/finish', { method: 'POST', body: { name, credential } });
}

export function listPasskeys(): Promise<Page<Passkey>> {
  return request<Page<Passkey>>('/me/passkeys');
}

export function removePasskey(id: string): Promise<void> {
  return request<void>(`/me/passkeys/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export function setPin(pin: string): Promise<void> {
  return request<void>('/me/pin', { method: 'PUT', body: { pin } });
}

export function removePin(): Promise<void> {
  return request<void>('/me/pin', { method: 'DELETE' });
}

/** Tells the server the screen locked; 409 when there is nothing to unlock with. */
export function lockSession(): Promise<void> {
  return request<void>('/me/lock', { method: 'POST' });
}

export function beginPasskeyUnlock(): Promise<{ public_key: PublicKeyJSON }> {
  return request('/me/unlock/begin', { method: 'POST' });
}

/**
 * Unlocks with the PIN or a passkey assertion. A wrong answer is 403 (the message counts the
 * tries left); the fifth is 401, which the caller handles itself (anonymous), to say why.
 */
export function unlockSession(answer: { pin: string } | { credential: Record<string, unknown> }): Promise<void> {
  return request<void>('/me/unlock', { method: 'POST', body: answer, anonymous: true });
}

export function listMySessions(): Promise<Page<DeviceSession>> {
  return request<Page<DeviceSession>>('/me/sessions');
}

export function endMySession(id: string): Promise<void> {
  return request<void>(`/me/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Every session of mine ends, this one included. */
export function endAllMySessions(): Promise<void> {
  return request<void>('/me/sessions/revoke-all', { method: 'POST' });
}
