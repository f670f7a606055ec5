// The screen lock in the whole app: idle → locked (content out of the DOM, server told) → PIN;
// no PIN → a prompt instead; a page opened on a locked session; the fifth wrong PIN; a lock
// reported by the stream (another tab of this browser).
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { onSessionEnded, onSessionLocked } from '../src/api/client';
import type { Security } from '../src/api/types';
import { setReloadForTests } from '../src/state/wipe';
import { type FakeResponse, FakeWebSocket, type Handler, apiError, conversation, mockApi, user } from './fakeServer';

// Real timers with a tiny idle time (the fake server may say anything; the real one's least is
// 10 s). The idle clock itself is tested with fake timers in src/state/idle.test.ts.
const IDLE = 0.15;
const me = user();
const ward = conversation({ id: 'c-1', last_seq: 0 });
let reload: ReturnType<typeof vi.fn>;

function security(over: Partial<Security> = {}): Security {
  return { totp: true, recovery_codes_remaining: 10, passkeys: 0, pin: true, mfa_required: true, passwordless_allowed: false, lock_idle_seconds: IDLE, locked: false, ...over };
}

function api(over: Record<string, Handler | FakeResponse> = {}) {
  return mockApi({
    'GET /api/v1/me': { status: 200, body: me },
    'GET /api/v1/me/security': { status: 200, body: security() },
    'GET /api/v1/conversations': { status: 200, body: { items: [ward], next_cursor: null } },
    'POST /api/v1/me/lock': { status: 204 },
    'POST /api/v1/me/unlock': ({ body }) =>
      (body as { pin: string }).pin === '2468' ? { status: 204 } : apiError(403, 'forbidden', 'the PIN is not right; 4 tries left'),
    ...over,
  });
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  window.history.replaceState(null, '', '/');
  reload = vi.fn();
  setReloadForTests(reload);
});
afterEach(() => {
  vi.unstubAllGlobals();
  onSessionEnded(null);
  onSessionLocked(null);
});

const idle = (ms: number) => act(() => new Promise((r) => setTimeout(r, ms)));

describe('screen lock', () => {
  it('locks after the idle time, takes the content out of the page, tells the server, and unlocks with the PIN', async () => {
    const { calls } = api();
    render(<App />);
    await screen.findByRole('link', { name: /Ward 7 team/ });
    await idle(50);
    expect(screen.queryByRole('heading', { name: 'Wardline is locked' })).not.toBeInTheDocument();
    const u = userEvent.setup();
    expect(await screen.findByRole('heading', { name: 'Wardline is locked' })).toBeInTheDocument();
    expect(document.body.textContent).not.toContain('Ward 7 team');
    expect(screen.getByLabelText('PIN')).toHaveFocus();
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/me/lock')).toBe(true));

    await u.type(screen.getByLabelText('PIN'), '1111');
    await u.click(screen.getByRole('button', { name: 'Unlock' }));
    const summary = (await screen.findByRole('heading', { name: 'There is a problem' })).closest('.nhsuk-error-summary') as HTMLElement;
    expect(within(summary).getByText('The PIN is not correct. You have 4 tries left before you are signed out')).toBeInTheDocument();
    expect(screen.getByText(/4 tries left\. After that you are signed out/)).toBeInTheDocument();

    await u.type(screen.getByLabelText('PIN'), '2468');
    await u.click(screen.getByRole('button', { name: 'Unlock' }));
    expect(await screen.findByRole('link', { name: /Ward 7 team/ })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/me/unlock').map((c) => c.body)).toEqual([{ pin: '1111' }, { pin: '2468' }]);
  });

  it('activity keeps it unlocked', async () => {
    api();
    render(<App />);
    await screen.findByRole('link', { name: /Ward 7 team/ });
    for (let i = 0; i < 8; i++) {
      await idle(IDLE * 500);
      act(() => window.dispatchEvent(new Event('pointermove')));
    }
    expect(screen.queryByRole('heading', { name: 'Wardline is locked' })).not.toBeInTheDocument();
  });

  it('without a PIN or passkey does not lock, and asks for a PIN instead', async () => {
    const { calls } = api({ 'GET /api/v1/me/security': { status: 200, body: security({ pin: false }) } });
    render(<App />);
    await screen.findByRole('link', { name: /Ward 7 team/ });
    
    expect(await screen.findByText('Set a PIN to lock this screen')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Set a PIN' })).toHaveAttribute('href', '/me/security');
    expect(screen.getByRole('link', { name: /Ward 7 team/ })).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/me/lock')).toBe(false);
  });

  it('a page opened on a locked session shows the lock screen, and loads nothing until the unlock', async () => {
    const { calls } = api({
      'GET /api/v1/me': { status: 200, body: { ...me, locked: true } },
      'GET /api/v1/me/security': { status: 200, body: security({ locked: true }) },
    });
    render(<App />);
    expect(await screen.findByRole('heading', { name: 'Wardline is locked' })).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/conversations')).toBe(false);
    expect(FakeWebSocket.instances).toHaveLength(0);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('PIN'), '2468');
    await u.click(screen.getByRole('button', { name: 'Unlock' }));
    expect(await screen.findByRole('link', { name: /Ward 7 team/ })).toBeInTheDocument();
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('the fifth wrong PIN signs out and wipes, saying why', async () => {
    api({ 'POST /api/v1/me/unlock': apiError(401, 'unauthenticated', 'too many wrong tries: this session has ended; sign in again') });
    window.localStorage.setItem('left-over', 'x');
    render(<App />);
    await screen.findByRole('link', { name: /Ward 7 team/ });
    
    const u = userEvent.setup();
    await u.type(await screen.findByLabelText('PIN'), '1111');
    await u.click(screen.getByRole('button', { name: 'Unlock' }));
    await waitFor(() => expect(reload).toHaveBeenCalledWith('/signin?ended=locked-out'));
    expect(window.localStorage.length).toBe(0);
    expect(document.body.textContent).not.toContain('Ward 7 team');
  });

  it('locks when the stream says another tab locked the session, and unlocks with it', async () => {
    api();
    render(<App />);
    await screen.findByRole('link', { name: /Ward 7 team/ });
    const ws = FakeWebSocket.latest();
    act(() => ws.deliver({ type: 'hello', user_id: 'u-me', server_time: '' }));
    act(() => ws.deliver({ type: 'resume.done' }));
    act(() => ws.deliver({ type: 'session.locked' }));
    expect(await screen.findByRole('heading', { name: 'Wardline is locked' })).toBeInTheDocument();
    act(() => ws.deliver({ type: 'session.unlocked' }));
    expect(await screen.findByRole('link', { name: /Ward 7 team/ })).toBeInTheDocument();
  });

  it('a 423 answer (locked meanwhile) shows the lock screen', async () => {
    api({ 'GET /api/v1/directory': apiError(423, 'locked', 'the session is locked') });
    render(<App />);
    await screen.findByRole('link', { name: /Ward 7 team/ });
    const { request } = await import('../src/api/client');
    await act(async () => {
      await request('/directory').catch(() => undefined);
    });
    expect(screen.getByRole('heading', { name: 'Wardline is locked' })).toBeInTheDocument();
  });
});
