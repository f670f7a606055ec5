// The idle clock behind the screen lock: after `timeoutMs` without a key press, pointer or touch,
// it calls onIdle once. Activity only records a time stamp (pointermove fires constantly), and the
// one timer checks the time passed when it fires, so a sleeping laptop or a throttled background
// tab locks as soon as it runs again. Clock and timers are injectable for tests.

export interface IdleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: IdleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class IdleTimer {
  private last = 0;
  private handle: unknown = null;
  private running = false;

  constructor(
    private timeoutMs: number,
    private readonly onIdle: () => void,
    private readonly clock: IdleClock = realClock,
  ) {}

  /** Starts (or restarts) the clock from now. */
  start(): void {
    this.running = true;
    this.last = this.clock.now();
    this.schedule(this.timeoutMs);
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }

  /** The person did something: the idle time counts from now. Cheap enough for every pointermove. */
  readonly activity = (): void => {
    if (this.running) this.last = this.clock.now();
  };

  /** Checks at once, e.g. when a hidden tab becomes visible again. */
  readonly check = (): void => {
    if (!this.running) return;
    const idleFor = this.clock.now() - this.last;
    if (idleFor >= this.timeoutMs) {
      this.stop();
      this.onIdle();
      return;
    }
    this.schedule(this.timeoutMs - idleFor);
  };

  /** How long without activity until onIdle; for tests and the UI. */
  remainingMs(): number {
    return this.running ? Math.max(0, this.timeoutMs - (this.clock.now() - this.last)) : 0;
  }

  private schedule(ms: number): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.check();
    }, ms);
  }
}

/** What counts as use: keyboard, pointer (mouse, pen, touch) and touch. Not scrolling by script or focus changes. */
export const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;

/** Listens for use on target (the window) and for the page becoming visible; returns the unsubscribe. */
export function watchActivity(target: Window, timer: IdleTimer): () => void {
  const opts: AddEventListenerOptions = { capture: true, passive: true };
  for (const type of ACTIVITY_EVENTS) target.addEventListener(type, timer.activity, opts);
  const onVisible = () => {
    if (target.document.visibilityState === 'visible') timer.check();
  };
  target.document.addEventListener('visibilitychange', onVisible);
  return () => {
    for (const type of ACTIVITY_EVENTS) target.removeEventListener(type, timer.activity, opts);
    target.document.removeEventListener('visibilitychange', onVisible);
  };
}
