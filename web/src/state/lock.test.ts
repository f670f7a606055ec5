import { describe, expect, it } from 'vitest';
import type { Security } from '../api/types';
import { MAX_UNLOCK_TRIES, canUnlock, initialLock, lockReducer, triesLeftFrom, validPin } from './lock';

const security = (over: Partial<Security> = {}): Security => ({
  totp: true,
  recovery_codes_remaining: 10,
  passkeys: 0,
  pin: false,
  mfa_required: true,
  passwordless_allowed: false,
  lock_idle_seconds: 120,
  locked: false,
  ...over,
});

describe('lock state', () => {
  it('locks and unlocks, forgetting the tries counted', () => {
    let s = lockReducer(initialLock, { type: 'locked' });
    expect(s.locked).toBe(true);
    s = lockReducer(s, { type: 'wrongAnswer', triesLeft: 3 });
    expect(s.triesLeft).toBe(3);
    expect(lockReducer(s, { type: 'locked' })).toBe(s); // locking a locked screen changes nothing
    s = lockReducer(s, { type: 'unlocked' });
    expect(s).toMatchObject({ locked: false, triesLeft: null });
    expect(lockReducer(s, { type: 'unlocked' })).toBe(s);
  });

  it('counts down itself when the server\'s message gives no number', () => {
    let s = lockReducer(initialLock, { type: 'locked' });
    s = lockReducer(s, { type: 'wrongAnswer', triesLeft: null });
    expect(s.triesLeft).toBe(MAX_UNLOCK_TRIES - 1);
    s = lockReducer(s, { type: 'wrongAnswer', triesLeft: null });
    expect(s.triesLeft).toBe(MAX_UNLOCK_TRIES - 2);
  });

  it('asks for a PIN after idling without one, until a PIN or passkey arrives', () => {
    let s = lockReducer(initialLock, { type: 'security', security: security() });
    s = lockReducer(s, { type: 'idleWithoutPin' });
    expect(s.needsPin).toBe(true);
    expect(s.locked).toBe(false);
    s = lockReducer(s, { type: 'security', security: security({ totp: false }) });
    expect(s.needsPin).toBe(true);
    s = lockReducer(s, { type: 'security', security: security({ pin: true }) });
    expect(s.needsPin).toBe(false);
  });

  it('can unlock with a PIN or a passkey, not with an authenticator app alone', () => {
    expect(canUnlock(null)).toBe(false);
    expect(canUnlock(security())).toBe(false);
    expect(canUnlock(security({ pin: true }))).toBe(true);
    expect(canUnlock(security({ passkeys: 1 }))).toBe(true);
  });

  it('reads the tries left from the error\'s field, whatever the words say', () => {
    expect(triesLeftFrom({ error: { code: 'forbidden', message: 'the PIN is not right', tries_left: 3 } }, 'the PIN is not right')).toBe(3);
    expect(triesLeftFrom({ error: { code: 'forbidden', message: 'x; 4 tries left', tries_left: 2 } }, 'x; 4 tries left')).toBe(2);
    expect(triesLeftFrom({ error: { code: 'forbidden', tries_left: 'three' } }, 'forbidden')).toBeNull();
  });

  it('falls back to the server\'s words when the field is missing', () => {
    expect(triesLeftFrom({}, 'the PIN is not right; 4 tries left')).toBe(4);
    expect(triesLeftFrom({ error: null }, 'the passkey was not accepted; 1 tries left')).toBe(1);
    expect(triesLeftFrom({}, '1 try left')).toBe(1);
    expect(triesLeftFrom({}, 'forbidden')).toBeNull();
  });

  it('takes PINs of 4 to 8 digits only', () => {
    expect(['1234', '12345678'].map(validPin)).toEqual([true, true]);
    expect(['123', '123456789', '12a4', ' 1234', ''].map(validPin)).toEqual([false, false, false, false, false]);
  });
});
