import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTimer, watchActivity } from './idle';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IdleTimer', () => {
  it('calls onIdle once, after the idle time without activity', () => {
    const onIdle = vi.fn();
    const t = new IdleTimer(10_000, onIdle);
    t.start();
    vi.advanceTimersByTime(9_999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('counts the idle time from the latest activity', () => {
    const onIdle = vi.fn();
    const t = new IdleTimer(10_000, onIdle);
    t.start();
    vi.advanceTimersByTime(8_000);
    t.activity();
    vi.advanceTimersByTime(8_000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(t.remainingMs()).toBe(2_000);
    vi.advanceTimersByTime(2_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('stops: no call after stop, and activity after it changes nothing', () => {
    const onIdle = vi.fn();
    const t = new IdleTimer(10_000, onIdle);
    t.start();
    t.stop();
    t.activity();
    vi.advanceTimersByTime(30_000);
    expect(onIdle).not.toHaveBeenCalled();
  });

  it('locks at once when a late timer or a visible page finds the time passed (sleep, throttled tab)', () => {
    const onIdle = vi.fn();
    let now = 0;
    const pending: (() => void)[] = [];
    const clock = { now: () => now, setTimeout: (fn: () => void) => pending.push(fn), clearTimeout: () => undefined };
    const t = new IdleTimer(10_000, onIdle, clock);
    t.start();
    now = 3_600_000; // the laptop slept; no timer ran
    t.check();
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('a restart after onIdle counts afresh', () => {
    const onIdle = vi.fn();
    const t = new IdleTimer(1_000, onIdle);
    t.start();
    vi.advanceTimersByTime(1_000);
    t.start();
    vi.advanceTimersByTime(999);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(2);
  });
});

describe('watchActivity', () => {
  it('takes keys, pointer and touch as use, and stops listening when unsubscribed', () => {
    const onIdle = vi.fn();
    const t = new IdleTimer(10_000, onIdle);
    const unwatch = watchActivity(window, t);
    t.start();
    for (const type of ['keydown', 'pointermove', 'pointerdown', 'touchstart', 'wheel']) {
      vi.advanceTimersByTime(9_000);
      window.dispatchEvent(new Event(type));
    }
    expect(onIdle).not.toHaveBeenCalled();
    unwatch();
    vi.advanceTimersByTime(9_000);
    window.dispatchEvent(new Event('keydown')); // no longer heard
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('checks when the page becomes visible again, however late its timer', () => {
    const onIdle = vi.fn();
    let now = 0;
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined }; // timers never run
    const t = new IdleTimer(10_000, onIdle, clock);
    const unwatch = watchActivity(window, t);
    t.start();
    now = 60_000;
    document.dispatchEvent(new Event('visibilitychange'));
    expect(onIdle).toHaveBeenCalledTimes(1);
    unwatch();
  });
});
