import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { onSessionEnded } from '../src/api/client';
import { setReloadForTests } from '../src/state/wipe';
import { type FakeResponse, FakeWebSocket, type Handler, conversation, message, mockApi, user } from './fakeServer';

const me = user();
const ward = conversation({ id: 'c-1', last_seq: 2, unread_count: 1 });
const direct = conversation({
  id: 'c-2',
  kind: 'direct',
  title: '',
  last_seq: 0,
  members: [
    { user_id: 'u-me', role: 'owner', joined_at: '' },
    { user_id: 'u-cat', role: 'owner', joined_at: '' },
  ],
});
const people = [
  { kind: 'user', id: 'u-bob', display_name: 'Bob Nurse', job_title: 'Staff nurse', profession: 'Nursing' },
  { kind: 'user', id: 'u-cat', display_name: 'Cat Pharm', job_title: 'Pharmacist', profession: 'Pharmacy' },
];

let reload: ReturnType<typeof vi.fn>;

function signedInApi(extra: Record<string, Handler | FakeResponse> = {}) {
  return mockApi({
    'GET /api/v1/me': { status: 200, body: me },
    'GET /api/v1/conversations': { status: 200, body: { items: [ward, direct], next_cursor: null } },
    'GET /api/v1/directory': { status: 200, body: { items: people, next_cursor: null } },
    ...extra,
  });
}

async function goLive() {
  const ws = await waitFor(() => FakeWebSocket.latest());
  act(() => ws.deliver({ type: 'hello', user_id: 'u-me', server_time: '' }));
  act(() => ws.deliver({ type: 'resume.done' }));
  return ws;
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
});

describe('signed in', () => {
  it('lists conversations, names direct ones from the directory, and counts live messages as unread', async () => {
    signedInApi();
    render(<App />);
    const wardLink = await screen.findByRole('link', { name: /Ward 7 team/ });
    expect(within(wardLink).getByText('1')).toBeInTheDocument();
    expect(await screen.findByRole('link', { name: /Cat Pharm/ })).toBeInTheDocument();

    const ws = await goLive();
    expect(ws.sent).toEqual([{ type: 'resume', cursors: { 'c-1': 2, 'c-2': 0 } }]);
    expect(screen.getByText('Online').closest('[role=status]')).toHaveTextContent('Connection: Online');

    act(() => ws.deliver({ type: 'message.created', message: message(3, { priority: 'urgent', requires_ack: true }) }));
    expect(within(screen.getByRole('link', { name: /Ward 7 team/ })).getByText('2')).toBeInTheDocument();
    expect(within(screen.getByRole('link', { name: /Ward 7 team/ })).getByText('Urgent')).toBeInTheDocument();
    expect(screen.getByText('New urgent message from Bob Nurse in Ward 7 team')).toBeInTheDocument();
    // The same message replayed after a reconnect is not counted twice.
    act(() => ws.deliver({ type: 'message.created', message: message(3, { priority: 'urgent', requires_ack: true }) }));
    expect(within(screen.getByRole('link', { name: /Ward 7 team/ })).getByText('2')).toBeInTheDocument();
  });

  it('filters conversations by title', async () => {
    signedInApi();
    render(<App />);
    await screen.findByRole('link', { name: /Cat Pharm/ });
    await userEvent.type(screen.getByLabelText('Search conversations'), 'ward');
    expect(screen.getByRole('link', { name: /Ward 7 team/ })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /Cat Pharm/ })).not.toBeInTheDocument();
  });

  it('shows reconnecting when the stream drops', async () => {
    signedInApi();
    render(<App />);
    const ws = await goLive();
    act(() => ws.drop());
    expect(screen.getByText('Reconnecting…')).toBeInTheDocument();
  });

  it('reconnects after a drop, resumes from what it has, and refreshes the list', async () => {
    const { calls } = signedInApi();
    render(<App />);
    const ws = await goLive();
    act(() => ws.deliver({ type: 'message.created', message: message(3) }));
    act(() => ws.drop());
    const ws2 = await waitFor(() => {
      const latest = FakeWebSocket.latest();
      if (latest === ws) throw new Error('not reconnected yet');
      return latest;
    }, { timeout: 3000 });
    act(() => ws2.deliver({ type: 'hello', user_id: 'u-me', server_time: '' }));
    expect(ws2.sent).toEqual([{ type: 'resume', cursors: { 'c-1': 3, 'c-2': 0 } }]);
    act(() => ws2.deliver({ type: 'resume.done' }));
    expect(screen.getByText('Online')).toBeInTheDocument();
    await waitFor(() => expect(calls.filter((c) => c.path === '/api/v1/conversations')).toHaveLength(2));
  });

  it('erases everything and returns to sign-in when the session is revoked', async () => {
    signedInApi();
    window.localStorage.setItem('left-over', 'x');
    window.sessionStorage.setItem('left-over', 'x');
    render(<App />);
    const ws = await goLive();
    act(() => ws.deliver({ type: 'session.revoked' }));
    expect(reload).toHaveBeenCalledWith('/signin?ended=revoked');
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
  });

  it('erases and returns to sign-in when a call finds the session has ended', async () => {
    mockApi({
      'GET /api/v1/me': { status: 200, body: me },
      'GET /api/v1/conversations': { status: 401, body: { error: { code: 'unauthenticated', message: 'session ended' } } },
    });
    render(<App />);
    await waitFor(() => expect(reload).toHaveBeenCalledWith('/signin?ended=expired'));
  });

  it('sends a half-finished sign-in from an earlier visit back to sign-in', async () => {
    const { calls } = mockApi({
      'GET /api/v1/me': { status: 200, body: me },
      'GET /api/v1/conversations': { status: 403, body: { error: { code: 'forbidden', message: 'password change required' } } },
      'POST /api/v1/auth/logout': { status: 204 },
    });
    render(<App />);
    expect(await screen.findByText('Sign in again to finish setting up your account.')).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/auth/logout')).toBe(true);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('opens a conversation, marks it read, and sends with priority', async () => {
    const sent: unknown[] = [];
    const { calls } = signedInApi({
      'GET /api/v1/conversations/c-1': { status: 200, body: ward },
      'GET /api/v1/conversations/c-1/messages': { status: 200, body: { items: [message(1, { body: 'BP 90/60' }), message(2, { body: 'repeat obs?' })], has_more: false } },
      'POST /api/v1/conversations/c-1/read': { status: 204 },
      'POST /api/v1/conversations/c-1/messages': ({ body }) => {
        sent.push(body);
        return { status: 201, body: message(3, { sender_id: 'u-me', ...(body as object) }) };
      },
    });
    window.history.replaceState(null, '', '/conversations/c-1');
    render(<App />);
    expect(await screen.findByText('repeat obs?')).toBeInTheDocument();
    await waitFor(() => expect(calls.find((c) => c.path === '/api/v1/conversations/c-1/read')?.body).toEqual({ seq: 2 }));

    const u = userEvent.setup();
    await u.click(screen.getByLabelText('Urgent'));
    expect(screen.getByLabelText('Ask for acknowledgement')).toBeChecked();
    await u.type(screen.getByLabelText('Message'), 'Coming now{Enter}');
    expect(await screen.findByText('Coming now')).toBeInTheDocument();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ body: 'Coming now', priority: 'urgent', requires_ack: true });
    expect((sent[0] as { client_id: string }).client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(screen.getByLabelText('Message')).toHaveValue('');
  });
});
