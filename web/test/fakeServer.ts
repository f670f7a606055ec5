// Test doubles at the app's boundary: fetch (the JSON API) and WebSocket (the event stream).
import { vi } from 'vitest';
import type { Conversation, Member, Message, User } from '../src/api/types';

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: { method: string; path: string; query: URLSearchParams; body: unknown; headers: Record<string, string> }) => FakeResponse;

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

/** Replaces global fetch with a route table keyed "METHOD /api/v1/path". */
export function mockApi(routes: Record<string, Handler | FakeResponse>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost');
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname, body, headers });
    const route = routes[`${method} ${url.pathname}`];
    if (!route) return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such route in test' } }), { status: 404 });
    const r = typeof route === 'function' ? route({ method, path: url.pathname, query: url.searchParams, body, headers }) : route;
    const text = r.body === undefined ? null : JSON.stringify(r.body);
    return new Response(r.status === 204 ? null : text, {
      status: r.status,
      headers: { 'Content-Type': 'application/json', ...(r.headers ?? {}) },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

export function apiError(status: number, code: string, message = code): FakeResponse {
  return { status, body: { error: { code, message } } };
}

/** A WebSocket the test drives: it records what the app sends and delivers what the test says. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly sent: unknown[] = [];
  readyState = 0;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static latest(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error('no WebSocket was opened');
    return ws;
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }

  /** The server sends an event. */
  deliver(event: unknown): void {
    this.readyState = 1;
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event) }));
  }

  /** The connection drops. */
  drop(): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code: 1006 }));
  }
}

export function user(over: Partial<User> = {}): User {
  return {
    id: 'u-me',
    email: 'ada@example.nhs.uk',
    display_name: 'Ada Lovelace',
    org_id: 'org-1',
    job_title: 'Registrar',
    profession: 'Medicine',
    registration: 'GMC 1234567',
    org_role: 'member',
    status: 'active',
    ...over,
  };
}

const NAMES: Record<string, [string, string]> = {
  'u-me': ['Ada Lovelace', 'Registrar'],
  'u-bob': ['Bob Nurse', 'Staff nurse'],
  'u-cat': ['Cat Pharm', 'Pharmacist'],
};

/** A member as the server sends it: with the directory's name and job title. */
export function member(userId: string, role: Member['role'] = 'member'): Member {
  const [displayName, jobTitle] = NAMES[userId] ?? ['', ''];
  return { user_id: userId, role, joined_at: '2026-01-01T08:00:00Z', display_name: displayName, job_title: jobTitle };
}

export function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    id: 'c-1',
    kind: 'group',
    title: 'Ward 7 team',
    created_at: '2026-01-01T08:00:00Z',
    created_by: 'u-me',
    members: [
      member('u-me', 'owner'),
      member('u-bob'),
      member('u-cat'),
    ],
    last_seq: 0,
    unread_count: 0,
    patient_id: null,
    last_activity_at: '2026-01-01T08:00:00Z',
    ...over,
  };
}

export function message(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m-${over.conversation_id ?? 'c-1'}-${seq}`,
    conversation_id: 'c-1',
    seq,
    sender_id: 'u-bob',
    client_id: `client-${seq}`,
    body: `message ${seq}`,
    priority: 'routine',
    requires_ack: false,
    created_at: `2026-01-01T09:${String(seq % 60).padStart(2, '0')}:00Z`,
    edited_at: null,
    deleted: false,
    ...over,
  };
}
