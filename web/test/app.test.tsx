import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { onSessionEnded } from '../src/api/client';
import { setReloadForTests } from '../src/state/wipe';
import { type FakeResponse, FakeWebSocket, type Handler, conversation, member, message, mockApi, user } from './fakeServer';

const me = user();
const ward = conversation({ id: 'c-1', last_seq: 2, unread_count: 1 });
const direct = conversation({
  id: 'c-2',
  kind: 'direct',
  title: '',
  last_seq: 0,
  members: [
    member('u-me', 'owner'),
    member('u-cat', 'owner'),
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
  it('lists conversations, names direct ones from their members, and counts live messages as unread', async () => {
    const { calls } = signedInApi();
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
    // Names come with the members: the directory is not scanned for them.
    expect(calls.some((c) => c.path === '/api/v1/directory')).toBe(false);
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
    // The page drops what it shows at once, then reloads once storage is erased.
    expect(screen.queryByRole('link', { name: /Ward 7 team/ })).not.toBeInTheDocument();
    await waitFor(() => expect(reload).toHaveBeenCalledWith('/signin?ended=revoked'));
    expect(reload).toHaveBeenCalledTimes(1);
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

  it('asks again for the new password when a reload interrupted a forced change', async () => {
    const { calls } = mockApi({
      'GET /api/v1/me': { status: 200, body: { ...me, password_change_required: true } },
      'POST /api/v1/me/password': { status: 204 },
      'POST /api/v1/auth/logout': { status: 401, body: { error: { code: 'unauthenticated', message: 'ended' } } },
    });
    render(<App />);
    expect(await screen.findByRole('heading', { name: 'Create a new password' })).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/conversations')).toBe(false);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Current password'), 'temporary-one');
    await u.type(screen.getByLabelText('New password'), 'a-new-long-password');
    await u.type(screen.getByLabelText('Confirm new password'), 'a-new-long-password');
    await u.click(screen.getByRole('button', { name: 'Save new password' }));
    expect(await screen.findByText('Your password has been changed. Sign in with your new password.')).toBeInTheDocument();
    expect(calls.find((c) => c.path === '/api/v1/me/password')?.body).toEqual({ current_password: 'temporary-one', new_password: 'a-new-long-password' });
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('after a password change from My account, says so on sign-in even if the stream reports the end first', async () => {
    let ws: FakeWebSocket | null = null;
    signedInApi({
      'POST /api/v1/me/password': () => {
        // The server ends every session of the user, this one included, before it answers.
        act(() => ws?.deliver({ type: 'session.revoked' }));
        return { status: 204 };
      },
    });
    window.history.replaceState(null, '', '/me');
    render(<App />);
    ws = await goLive();
    const u = userEvent.setup();
    await u.type(await screen.findByLabelText('Current password'), 'old-password-1');
    await u.type(screen.getByLabelText('New password'), 'new-password-22');
    await u.type(screen.getByLabelText('Confirm new password'), 'new-password-22');
    await u.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() => expect(reload).toHaveBeenCalledWith('/signin?ended=password-changed'));
    expect(reload).toHaveBeenCalledTimes(1);
  });

  it('tells me when a wrong current password is refused (403) and keeps me signed in', async () => {
    signedInApi({ 'POST /api/v1/me/password': { status: 403, body: { error: { code: 'forbidden', message: 'the current password is not right' } } } });
    window.history.replaceState(null, '', '/me');
    render(<App />);
    await goLive();
    const u = userEvent.setup();
    await u.type(await screen.findByLabelText('Current password'), 'wrong-password');
    await u.type(screen.getByLabelText('New password'), 'new-password-22');
    await u.type(screen.getByLabelText('Confirm new password'), 'new-password-22');
    await u.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findAllByText('Your current password is not correct')).not.toHaveLength(0);
    expect(reload).not.toHaveBeenCalled();
  });

  it('leaves a conversation screen whose conversation I was removed from', async () => {
    signedInApi({
      'GET /api/v1/conversations/c-1': { status: 200, body: ward },
      'GET /api/v1/conversations/c-1/messages': { status: 200, body: { items: [message(1, { body: 'BP 90/60' })], has_more: false } },
      'POST /api/v1/conversations/c-1/read': { status: 204 },
    });
    window.history.replaceState(null, '', '/conversations/c-1');
    render(<App />);
    const ws = await goLive();
    expect(await screen.findByText('BP 90/60')).toBeInTheDocument();
    act(() => ws.deliver({ type: 'conversation.updated', conversation: { ...ward, members: [member('u-bob', 'owner')] } }));
    expect(await screen.findByRole('heading', { name: 'You are no longer in this conversation' })).toBeInTheDocument();
    expect(screen.queryByText('BP 90/60')).not.toBeInTheDocument();
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
