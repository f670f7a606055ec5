// The one way the app talks to the server: same origin, /api/v1, cookie session, CSRF header.
// Errors come back as ApiError with the code of API.md, so screens switch on codes, not statuses.

export const API_BASE = '/api/v1';

export type ErrorCode =
  | 'invalid'
  | 'unauthenticated'
  | 'mfa_required'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'locked'
  | 'rate_limited'
  | 'internal'
  | 'network' // the request never got an answer
  | 'unknown'; // an answer the contract does not describe

const KNOWN_CODES: ReadonlySet<string> = new Set([
  'invalid',
  'unauthenticated',
  'mfa_required',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'locked',
  'rate_limited',
  'internal',
]);

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  423: 'locked',
  429: 'rate_limited',
  500: 'internal',
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** The whole decoded error body: mfa_required carries mfa_token and methods beside "error". */
  readonly body: Record<string, unknown>;
  /** Seconds from a Retry-After header, when the server sent one. */
  readonly retryAfter: number | null;

  constructor(status: number, code: ErrorCode, message: string, body: Record<string, unknown> = {}, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

export function isApiError(err: unknown, code?: ErrorCode): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

/** Builds the typed error for a non-2xx answer whose body may or may not be the contract's JSON. */
export function errorFromResponse(status: number, body: unknown, retryAfterHeader: string | null): ApiError {
  const obj = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const err = obj.error !== null && typeof obj.error === 'object' ? (obj.error as Record<string, unknown>) : {};
  const rawCode = typeof err.code === 'string' ? err.code : '';
  const code: ErrorCode = KNOWN_CODES.has(rawCode)
    ? (rawCode as ErrorCode)
    : (CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'unknown'));
  const message = typeof err.message === 'string' && err.message !== '' ? err.message : `request failed (${status})`;
  const seconds = retryAfterHeader !== null ? Number.parseInt(retryAfterHeader, 10) : Number.NaN;
  return new ApiError(status, code, message, obj, Number.isFinite(seconds) ? seconds : null);
}

type SessionEndedHandler = () => void;
let sessionEnded: SessionEndedHandler | null = null;

/** Called whenever a signed-in call answers 401: the session has ended (expired, revoked). */
export function onSessionEnded(handler: SessionEndedHandler | null): void {
  sessionEnded = handler;
}

type SessionLockedHandler = () => void;
let sessionLocked: SessionLockedHandler | null = null;

/**
 * Called whenever a signed-in call answers 423: the session is locked (by another tab of this
 * browser, or before this page knew). The app then shows its lock screen.
 */
export function onSessionLocked(handler: SessionLockedHandler | null): void {
  sessionLocked = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  signal?: AbortSignal;
  /** Sign-in calls answer 401 for a wrong password; that is not a session ending. */
  anonymous?: boolean;
}

export function apiUrl(path: string, query?: RequestOptions['query']): string {
  let url = API_BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += '?' + qs;
  }
  return url;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = {
    Accept: 'application/json',
    // Every call carries it: the server needs it on state-changing cookie requests and on login,
    // where it means "keep the token in the HttpOnly cookie and leave it out of the answer".
    'X-Wardline-CSRF': '1',
  };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (opts.signal) init.signal = opts.signal;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }

  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), init);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }

  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (res.ok) return body as T;

  const err = errorFromResponse(res.status, body, res.headers.get('Retry-After'));
  if (err.status === 401 && err.code === 'unauthenticated' && !opts.anonymous && sessionEnded) sessionEnded();
  if (err.status === 423 && !opts.anonymous && sessionLocked) sessionLocked();
  throw err;
}

/** A file the server sent for saving (an export, a transcript): held in memory until saved. */
export interface DownloadedFile {
  blob: Blob;
  filename: string;
}

function filenameFrom(disposition: string | null, fallback: string): string {
  const m = disposition?.match(/filename="([^"]+)"/);
  // Only a plain file name: no paths, nothing the browser would have to sanitise.
  return m?.[1] && /^[\w.-]+$/.test(m[1]) ? m[1] : fallback;
}

/** Every item of a paged list (`items`, `next_cursor`), pages of 200, following next_cursor to the end. */
export async function requestAll<T>(path: string): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await request<{ items: T[]; next_cursor: string | null }>(path, { query: { cursor, limit: 200 } });
    all.push(...page.items);
    if (!page.next_cursor) return all;
    cursor = page.next_cursor;
  }
}

/** As request(), for answers that are files to save (CSV, JSON, PDF) rather than data to read. */
export async function requestFile(path: string, opts: RequestOptions, fallbackName: string): Promise<DownloadedFile> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { 'X-Wardline-CSRF': '1' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), init);
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    let body: unknown = null;
    try {
      body = JSON.parse(await res.text());
    } catch {
      body = null;
    }
    const err = errorFromResponse(res.status, body, res.headers.get('Retry-After'));
    if (err.status === 401 && err.code === 'unauthenticated' && sessionEnded) sessionEnded();
    throw err;
  }
  return { blob: await res.blob(), filename: filenameFrom(res.headers.get('Content-Disposition'), fallbackName) };
}
