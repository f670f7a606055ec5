import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { onSessionEnded } from '../src/api/client';
import type { User } from '../src/api/types';
import { setReloadForTests } from '../src/state/wipe';
import { FakeWebSocket, mockApi, user } from './fakeServer';

const admin = user({ org_role: 'admin' });
const bob = user({ id: 'u-bob', display_name: 'Bob Nurse', email: 'bob@example.nhs.uk', job_title: 'Charge nurse' });

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  setReloadForTests(vi.fn());
});
afterEach(() => {
  vi.unstubAllGlobals();
  onSessionEnded(null);
});

function api(me: User) {
  return mockApi({
    'GET /api/v1/me': { status: 200, body: me },
    'GET /api/v1/conversations': { status: 200, body: { items: [], next_cursor: null } },
    'GET /api/v1/admin/users': ({ query }) => ({
      status: 200,
      body: { items: [admin, bob].filter((u) => !query.get('status') || u.status === query.get('status')), next_cursor: null },
    }),
    'POST /api/v1/admin/users': ({ body }) => ({ status: 201, body: { user: user({ ...(body as object), id: 'u-new' }), initial_password: 'plum-ocean-47-kettle' } }),
    'POST /api/v1/admin/users/u-bob/offboard': { status: 204 },
  });
}

describe('admin console', () => {
  it('is not offered to staff who are not admins', async () => {
    api(user());
    window.history.replaceState(null, '', '/admin/staff');
    render(<App />);
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Staff' })).not.toBeInTheDocument();
  });

  it('creates an account and shows the initial password once', async () => {
    const { calls } = api(admin);
    window.history.replaceState(null, '', '/admin/staff');
    render(<App />);
    const u = userEvent.setup();
    await u.click(await screen.findByRole('button', { name: 'Add a member of staff' }));
    await u.type(screen.getByLabelText('Full name'), 'Dan Evans');
    await u.type(screen.getByLabelText('Work email address'), 'dan@example.nhs.uk');
    await u.type(screen.getByLabelText('Job title'), 'FY1');
    await u.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('plum-ocean-47-kettle')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST' && c.path === '/api/v1/admin/users')?.body).toEqual({
      email: 'dan@example.nhs.uk',
      display_name: 'Dan Evans',
      job_title: 'FY1',
      profession: '',
      registration: '',
      org_role: 'member',
    });
    await u.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByText('plum-ocean-47-kettle')).not.toBeInTheDocument();
  });

  it('offboards only after confirmation', async () => {
    const { calls } = api(admin);
    window.history.replaceState(null, '', '/admin/staff');
    render(<App />);
    const u = userEvent.setup();
    const row = (await screen.findByText('Bob Nurse', { selector: 'strong' })).closest('tr')!;
    expect(within(screen.getByText('Ada Lovelace', { selector: 'strong' }).closest('tr')!).queryByRole('button')).not.toBeInTheDocument();
    await u.click(within(row).getByRole('button', { name: 'Offboard Bob Nurse' }));
    expect(calls.some((c) => c.path.endsWith('/offboard'))).toBe(false);
    expect(within(row).getByText(/removes them from every conversation/)).toBeInTheDocument();
    await u.click(within(row).getByRole('button', { name: 'Yes, offboard Bob Nurse' }));
    await waitFor(() => expect(within(row).getByText('Offboarded')).toBeInTheDocument());
    const call = calls.find((c) => c.path === '/api/v1/admin/users/u-bob/offboard')!;
    expect(call.method).toBe('POST');
    expect(call.headers['X-Wardline-CSRF']).toBe('1');
  });
});
