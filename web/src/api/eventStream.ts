// The WebSocket to /api/v1/events: connects with the session cookie, runs the resume machine,
// and reconnects with backoff after a drop, resuming from the cursors it holds.

import { getHistory } from './messages';
import {
  type AnyServerEvent,
  type Effect,
  type MessageSource,
  type StreamState,
  connecting,
  disconnected,
  historyFailed,
  historyPage,
  initialState,
  knowConversation,
  receive,
} from './events';
import type { Message } from './types';

export type StreamStatus = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface StreamHandlers {
  /** silent: a live copy for someone off duty, to show without an alert. */
  messages(source: MessageSource, messages: Message[], silent?: boolean): void;
  event(event: AnyServerEvent): void;
  revoked(): void;
  /** The session locked (true) or unlocked (false). */
  lock(locked: boolean): void;
  status(status: StreamStatus): void;
  /** After a connection that never said hello: is the session still good? false stops the stream. */
  sessionAlive(): Promise<boolean>;
}

export interface StreamOptions {
  url?: string;
  WebSocketImpl?: typeof WebSocket;
  /** Milliseconds to wait before reconnect attempt n (0-based). */
  backoff?: (attempt: number) => number;
  fetchPage?: (conversationId: string, afterSeq: number) => Promise<{ items: Message[]; has_more: boolean }>;
}

export function defaultBackoff(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random() / 2));
}

export function eventsUrl(loc: Location = window.location): string {
  // Delivered receipts come one frame per conversation and flush rather than one per member.
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/events?receipts=batched`;
}

const FILL_PAGE = 200;

// navigator.onLine false is reliable (no network at all); true may be wrong, so only false counts.
function isOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

export class EventStream {
  private state: StreamState = initialState();
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private saidHello = false;
  private readonly opts: Required<StreamOptions>;

  constructor(
    private readonly handlers: StreamHandlers,
    opts: StreamOptions = {},
  ) {
    this.opts = {
      url: opts.url ?? eventsUrl(),
      WebSocketImpl: opts.WebSocketImpl ?? WebSocket,
      backoff: opts.backoff ?? defaultBackoff,
      fetchPage: opts.fetchPage ?? ((id, after) => getHistory(id, { afterSeq: after, limit: FILL_PAGE })),
    };
  }

  /** Conversations the app learnt of outside the stream (the list, one it created). */
  know(conversationId: string, lastSeq: number): void {
    this.state = knowConversation(this.state, conversationId, lastSeq);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.reconnectNow);
    window.addEventListener('offline', this.dropNow);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.reconnectNow);
    window.removeEventListener('offline', this.dropNow);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000);
    }
    this.state = initialState();
  }

  private readonly reconnectNow = (): void => {
    if (this.stopped || this.ws) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  };

  // The browser knows the network is gone: a socket it leaves open would say nothing until a
  // write failed, so close it now, show "Offline", and reconnect (with resume) on 'online'.
  private readonly dropNow = (): void => {
    const ws = this.ws;
    if (this.stopped || !ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    ws.close();
    void this.onClose(ws);
  };

  private connect(): void {
    this.state = connecting(this.state);
    this.saidHello = false;
    this.handlers.status(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new this.opts.WebSocketImpl(this.opts.url);
    this.ws = ws;
    ws.onmessage = (e: MessageEvent) => this.onFrame(e.data);
    ws.onclose = () => void this.onClose(ws);
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') return;
    let event: AnyServerEvent;
    try {
      event = JSON.parse(data) as AnyServerEvent;
    } catch {
      return; // a frame that is not JSON is not ours to act on
    }
    if (!event || typeof event.type !== 'string') return;
    if (event.type === 'hello') {
      this.saidHello = true;
      this.attempt = 0;
    }
    const step = receive(this.state, event);
    this.state = step.state;
    if (event.type === 'resume.done') this.handlers.status('online');
    this.run(step.effects);
  }

  private run(effects: Effect[]): void {
    for (const fx of effects) {
      switch (fx.kind) {
        case 'send':
          this.ws?.send(JSON.stringify(fx.event));
          break;
        case 'messages':
          if (fx.silent) this.handlers.messages(fx.source, fx.messages, true);
          else this.handlers.messages(fx.source, fx.messages);
          break;
        case 'event':
          this.handlers.event(fx.event);
          break;
        case 'fetchHistory':
          void this.fill(fx.conversationId, fx.afterSeq);
          break;
        case 'lock':
          this.handlers.lock(fx.locked);
          break;
        case 'revoked':
          this.stop();
          this.handlers.revoked();
          return;
      }
    }
  }

  private async fill(conversationId: string, afterSeq: number): Promise<void> {
    try {
      const page = await this.opts.fetchPage(conversationId, afterSeq);
      if (this.stopped) return;
      const step = historyPage(this.state, conversationId, page.items, page.has_more);
      this.state = step.state;
      this.run(step.effects);
    } catch {
      this.state = historyFailed(this.state, conversationId);
    }
  }

  private async onClose(ws: WebSocket): Promise<void> {
    if (this.ws !== ws) return;
    this.ws = null;
    this.state = disconnected(this.state);
    if (this.stopped) return;
    if (isOffline()) {
      // Retrying is pointless until the browser is back online, which calls reconnectNow.
      this.handlers.status('offline');
      return;
    }
    this.handlers.status('reconnecting');
    if (!this.saidHello) {
      // The upgrade may have been refused because the session ended: ask before retrying.
      let alive = true;
      try {
        alive = await this.handlers.sessionAlive();
      } catch {
        alive = true; // offline: keep trying
      }
      if (!alive || this.stopped) return;
    }
    const delay = this.opts.backoff(this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }
}
