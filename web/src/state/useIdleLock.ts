// Runs the idle clock while the signed-in app is shown and unlocked: after the organisation's
// lock_idle_seconds without use, Session.idle() locks the screen (or asks for a PIN).
import { useEffect } from 'react';
import { IdleTimer, watchActivity } from './idle';
import { type LockState, canUnlock } from './lock';
import type { Session } from './session';

export function useIdleLock(session: Session, lock: LockState, fallbackSeconds?: number): void {
  const seconds = lock.security?.lock_idle_seconds ?? fallbackSeconds ?? 0;
  // Known to have nothing to unlock with: the clock still runs once, to ask for a PIN; after
  // that it waits until a PIN or passkey arrives.
  const waiting = lock.needsPin && !canUnlock(lock.security);
  useEffect(() => {
    if (lock.locked || waiting || seconds <= 0) return;
    const timer = new IdleTimer(seconds * 1000, () => void session.idle());
    const unwatch = watchActivity(window, timer);
    timer.start();
    return () => {
      unwatch();
      timer.stop();
    };
  }, [session, seconds, lock.locked, waiting]);
}
