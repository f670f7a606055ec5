// Sign-in, second factor, password and the caller's own account (API.md "Authentication").
import { ApiError, request } from './client';
import type { LoginOK, Me, MfaMethod, PublicKeyJSON, TotpEnrolment } from './types';

/**
 * org names the organisation (its name or id) for an address held in more than one: an address
 * is unique within an organisation only. Left out, the address signs in to its oldest active account.
 */
export function login(email: string, password: string, org = ''): Promise<LoginOK> {
  const body = org ? { email, password, org } : { email, password };
  return request<LoginOK>('/auth/login', { method: 'POST', body, anonymous: true });
}

export function loginTotp(mfaToken: string, code: string): Promise<LoginOK> {
  return request<LoginOK>('/auth/mfa/totp', { method: 'POST', body: { mfa_token: mfaToken, code }, anonymous: true });
}

export function loginRecoveryCode(mfaToken: string, code: string): Promise<LoginOK> {
  return request<LoginOK>('/auth/mfa/recovery', { method: 'POST', body: { mfa_token: mfaToken, code }, anonymous: true });
}

/** Second step with a passkey: the assertion options for this sign-in. */
export function beginMfaPasskey(mfaToken: string): Promise<{ public_key: PublicKeyJSON }> {
  return request('/auth/mfa/webauthn/begin', { method: 'POST', body: { mfa_token: mfaToken }, anonymous: true });
}

export function finishMfaPasskey(mfaToken: string, credential: Record<string, unknown>): Promise<LoginOK> {
  return request<LoginOK>('/auth/mfa/webauthn/finish', { method: 'POST', body: { mfa_token: mfaToken, credential }, anonymous: true });
}

/** Passwordless sign-in: a discoverable passkey names its user. */
export function beginPasskeyLogin(): Promise<{ challenge_id: string; public_key: PublicKeyJSON }> {
  return request('/auth/passkey/begin', { method: 'POST', anonymous: true });
}

export function finishPasskeyLogin(challengeId: string, credential: Record<string, unknown>): Promise<LoginOK> {
  return request<LoginOK>('/auth/passkey/finish', { method: 'POST', body: { challenge_id: challengeId, credential }, anonymous: true });
}

export function logout(): Promise<void> {
  return request<void>('/auth/logout', { method: 'POST', anonymous: true });
}

export function getMe(): Promise<Me> {
  return request<Me>('/me', { anonymous: true });
}

export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  return request<void>('/me/password', {
    method: 'POST',
    body: { current_password: currentPassword, new_password: newPassword },
    // A wrong current password must not look like the session ending.
    anonymous: true,
  });
}

export function startTotp(): Promise<TotpEnrolment> {
  return request<TotpEnrolment>('/me/totp', { method: 'POST' });
}

export function confirmTotp(code: string): Promise<{ recovery_codes: string[] }> {
  return request<{ recovery_codes: string[] }>('/me/totp/confirm', { method: 'POST', body: { code } });
}

/** What a 401 mfa_required answer to login carries beside the error. */
export interface MfaChallenge {
  mfaToken: string;
  methods: MfaMethod[];
}

const METHODS: readonly string[] = ['totp', 'webauthn', 'recovery_code'];

export function mfaChallenge(err: ApiError): MfaChallenge | null {
  if (err.code !== 'mfa_required') return null;
  const token = err.body.mfa_token;
  const methods = Array.isArray(err.body.methods) ? err.body.methods.filter((m): m is MfaMethod => METHODS.includes(m as string)) : [];
  return typeof token === 'string' ? { mfaToken: token, methods } : null;
}
