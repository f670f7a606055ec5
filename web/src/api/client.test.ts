import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, mockApi } from '../../test/fakeServer';
import { ApiError, errorFromResponse, onSessionEnded, request } from './client';

afterEach(() => {
  vi.unstubAllGlobals();
  onSessionEnded(null);
});

describe('errorFromResponse', () => {
  const cases: { name: string; status: number; body: unknown; code: string; message: string }[] = [
    { name: 'invalid', status: 400, body: { error: { code: 'invalid', message: 'body is empty' } }, code: 'invalid', message: 'body is empty' },
    { name: 'locked', status: 423, body: { error: { code: 'locked', message: 'account locked' } }, code: 'locked', message: 'account locked' },
    { name: 'mfa_required keeps its own code over the status', status: 401, body: { error: { code: 'mfa_required', message: 'second factor' } }, code: 'mfa_required', message: 'second factor' },
    { name: 'rate_limited', status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } }, code: 'rate_limited', message: 'slow down' },
    { name: 'locked with no JSON body', status: 423, body: null, code: 'locked', message: 'request failed (423)' },
    { name: 'rate limited with no JSON body', status: 429, body: null, code: 'rate_limited', message: 'request failed (429)' },
    { name: 'not JSON from a proxy', status: 502, body: null, code: 'internal', message: 'request failed (502)' },
    { name: 'unknown code falls back to the status', status: 404, body: { error: { code: 'gone_fishing', message: 'x' } }, code: 'not_found', message: 'x' },
    { name: 'status outside the contract', status: 418, body: {}, code: 'unknown', message: 'request failed (418)' },
    { name: 'error that is not an object', status: 403, body: { error: 'nope' }, code: 'forbidden', message: 'request failed (403)' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = errorFromResponse(c.status, c.body, null);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.status).toBe(c.status);
      expect(err.code).toBe(c.code);
      expect(err.message).toBe(c.message);
    });
  }

  it('reads Retry-After in seconds', () => {
    expect(errorFromResponse(429, {}, '120').retryAfter).toBe(120);
    expect(errorFromResponse(429, {}, 'soon').retryAfter).toBeNull();
  });
});

describe('request', () => {
  it('sends JSON with the CSRF header on the same origin', async () => {
    const { calls, fetchMock } = mockApi({ 'POST /api/v1/conversations/c-1/read': { status: 204 } });
    await expect(request('/conversations/c-1/read', { method: 'POST', body: { seq: 4 } })).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/api/v1/conversations/c-1/read', body: { seq: 4 } });
    expect(calls[0]!.headers['X-Wardline-CSRF']).toBe('1');
    expect(calls[0]!.headers['Content-Type']).toBe('application/json');
    expect(fetchMock.mock.calls[0]![1]).toMatchObject({ credentials: 'same-origin' });
  });

  it('leaves out empty query values', async () => {
    const { fetchMock } = mockApi({ 'GET /api/v1/admin/users': { status: 200, body: { items: [], next_cursor: null } } });
    await request('/admin/users', { query: { q: 'ann', status: '', cursor: undefined, limit: 50 } });
    expect(String(fetchMock.mock.calls[0]![0])).toBe('/api/v1/admin/users?q=ann&limit=50');
  });

  it('maps an error answer to ApiError with the whole body', async () => {
    mockApi({
      'POST /api/v1/auth/login': {
        status: 401,
        body: { error: { code: 'mfa_required', message: 'code needed' }, mfa_token: 'mt-1', methods: ['totp'] },
      },
    });
    const err = await request<unknown>('/auth/login', { method: 'POST', body: {}, anonymous: true }).catch((e: ApiError) => e) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('mfa_required');
    expect(err.body.mfa_token).toBe('mt-1');
  });

  it('turns a failed fetch into a network error', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    const err = await request<unknown>('/me').catch((e: ApiError) => e) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('network');
    expect(err.status).toBe(0);
  });

  it('reports a 401 on a signed-in call as the session ending', async () => {
    mockApi({ 'GET /api/v1/conversations': apiError(401, 'unauthenticated') });
    const ended = vi.fn();
    onSessionEnded(ended);
    await expect(request('/conversations')).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('does not report a wrong password as the session ending', async () => {
    mockApi({ 'POST /api/v1/auth/login': apiError(401, 'unauthenticated') });
    const ended = vi.fn();
    onSessionEnded(ended);
    await expect(request('/auth/login', { method: 'POST', body: {}, anonymous: true })).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(ended).not.toHaveBeenCalled();
  });
});
