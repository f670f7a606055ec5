// The screen lock's state, apart from React and the network: whether the screen is locked, how
// many PIN tries the server says are left, what the account can unlock with, and whether the
// idle time passed without anything to unlock with (the app then asks for a PIN instead).
import { useSyncExternalStore } from 'react';
import type { Security } from '../api/types';

/** Wrong PINs (or passkeys) a locked session takes; the fifth ends it (the server's limit). */
export const MAX_UNLOCK_TRIES = 5;

export interface LockState {
  locked: boolean;
  /** Tries left before the session ends, once a wrong answer told; null before. */
  triesLeft: number | null;
  /** What the account has and the organisation asks; null until loaded. */
  security: Security | null;
  /** The idle time passed with no PIN or passkey to unlock with: the app asks for a PIN. */
  needsPin: boolean;
}

export type LockAction =
  | { type: 'security'; security: Security }
  | { type: 'locked' }
  | { type: 'unlocked' }
  | { type: 'wrongAnswer'; triesLeft: number | null }
  | { type: 'idleWithoutPin' };

export const initialLock: LockState = { locked: false, triesLeft: null, security: null, needsPin: false };

/** Whether the account has something to unlock a locked screen with. */
export function canUnlock(security: Security | null): boolean {
  return !!security && (security.pin || security.passkeys > 0);
}

export function lockReducer(state: LockState, action: LockAction): LockState {
  switch (action.type) {
    case 'security': {
      const security = action.security;
      return { ...state, security, needsPin: state.needsPin && !canUnlock(security) };
    }
    case 'locked':
      return state.locked ? state : { ...state, locked: true, triesLeft: null };
    case 'unlocked':
      return state.locked ? { ...state, locked: false, triesLeft: null } : state;
    case 'wrongAnswer': {
      const known = state.triesLeft === null ? MAX_UNLOCK_TRIES : state.triesLeft;
      return { ...state, triesLeft: action.triesLeft ?? Math.max(1, known - 1) };
    }
    case 'idleWithoutPin':
      return state.needsPin ? state : { ...state, needsPin: true };
  }
}

/**
 * The tries left from the server's 403: its error.tries_left field, or, from a server older than
 * that field, the message's words ("the PIN is not right; 3 tries left").
 */
export function triesLeftFrom(body: Record<string, unknown>, message: string): number | null {
  const err = body.error !== null && typeof body.error === 'object' ? (body.error as Record<string, unknown>) : {};
  const n = err.tries_left;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  const m = /(\d+) tr(?:y|ies) left/.exec(message);
  return m ? Number(m[1]) : null;
}

/** A PIN as the server takes it: 4 to 8 digits. */
export function validPin(pin: string): boolean {
  return /^\d{4,8}$/.test(pin);
}

export class LockStore {
  private state: LockState = initialLock;
  private readonly listeners = new Set<() => void>();

  getState = (): LockState => this.state;

  dispatch = (action: LockAction): void => {
    const next = lockReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  };

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export function useLockState(store: LockStore): LockState {
  return useSyncExternalStore(store.subscribe, store.getState);
}
