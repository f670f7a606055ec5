// What to tell a person whose sign-in did not work. Says nothing about whether an account exists.
import type { ApiError } from '../../api/client';

function minutes(seconds: number | null, fallback: number): number {
  return seconds !== null && seconds > 0 ? Math.max(1, Math.ceil(seconds / 60)) : fallback;
}

export function signInErrorText(err: ApiError, withOrg = false): string {
  switch (err.code) {
    case 'unauthenticated':
      return withOrg ? 'The email address, password or organisation is not correct' : 'The email address or password is not correct';
    case 'forbidden':
      return 'Your account is suspended. Contact your organisation’s Wardline administrator';
    case 'locked':
      return `This account is locked after too many failed attempts to sign in. Try again in ${minutes(err.retryAfter, 15)} minutes, or ask your administrator to reset your password`;
    case 'rate_limited':
      return `There have been too many attempts to sign in from this network. Wait ${minutes(err.retryAfter, 15)} minutes and try again`;
    case 'invalid':
      return err.message;
    case 'network':
      return 'Wardline could not be reached. Check your connection and try again';
    default:
      return 'Sorry, there is a problem with the service. Try again later';
  }
}

export type SecondFactorMethod = 'totp' | 'recovery' | 'passkey';

const WRONG: Record<SecondFactorMethod, string> = {
  totp: 'The security code is not correct or has expired. Enter the current code from your authenticator app',
  recovery: 'The recovery code is not correct or has been used already',
  passkey: 'The passkey was not accepted. Try again, or use another way to sign in',
};

/** A failed second step. 'unauthenticated' means the step itself is over: sign in again. */
export function secondFactorErrorText(err: ApiError, method: SecondFactorMethod): string {
  switch (err.code) {
    case 'mfa_required':
    case 'invalid':
      return WRONG[method];
    case 'unauthenticated':
      return 'Your sign-in timed out, or there were too many wrong answers. Sign in again';
    case 'conflict':
      return method === 'passkey' ? 'There is no passkey for your account. Use your authenticator app' : WRONG[method];
    case 'locked':
    case 'rate_limited':
    case 'forbidden':
    case 'network':
      return signInErrorText(err);
    default:
      return 'Sorry, there is a problem with the service. Try again later';
  }
}

/** Backwards-compatible name for the TOTP step's messages. */
export function totpErrorText(err: ApiError): string {
  return secondFactorErrorText(err, 'totp');
}

/** A passwordless sign-in that the server refused. */
export function passkeyLoginErrorText(err: ApiError): string {
  switch (err.code) {
    case 'unauthenticated':
      return 'That passkey was not accepted. Sign in with your email address and password';
    case 'forbidden':
      return /passwordless|organisation/i.test(err.message)
        ? 'Your organisation does not allow signing in with a passkey alone. Sign in with your email address and password'
        : /not configured/i.test(err.message)
          ? 'Passkeys are not available on this Wardline server. Sign in with your email address and password'
          : 'Your account is suspended. Contact your organisation’s Wardline administrator';
    default:
      return signInErrorText(err);
  }
}

/** Notices for the sign-in screen after a session ended, keyed by the ?ended= reason. */
export const endedNotices: Record<string, string> = {
  revoked: 'You have been signed out because your session was ended. Wardline has cleared what it held on this device.',
  expired: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You have signed out.',
  restricted: 'Sign in again to finish setting up your account.',
  'password-changed': 'Your password has been changed. Sign in with your new password.',
  'signed-out-everywhere': 'You have signed out on every device. Wardline has cleared what it held on this one.',
  'locked-out': 'You were signed out because the wrong PIN was entered too many times. Wardline has cleared what it held on this device. Sign in again.',
};
