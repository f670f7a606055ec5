// The clinical screens as a whole app against a fake server: escalation steps rendered live from
// `escalation` events, silent copies without an alert, re-alerts, send warnings, patient search
// checked before sending (and never in a URL), and IG alerts arriving live.
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { onSessionEnded } from '../src/api/client';
import { setReloadForTests } from '../src/state/wipe';
import { type FakeResponse, FakeWebSocket, type Handler, conversation, message, mockApi, user } from './fakeServer';

const ward = conversation({ id: 'c-1', last_seq: 1 });
const at = (min: number) => `2026-01-01T09:${String(min).padStart(2, '0')}:00Z`;

function app(extra: Record<string, Handler | FakeResponse> = {}, me = user()) {
  return mockApi({
    'GET /api/v1/me': { status: 200, body: me },
    'GET /api/v1/conversations': { status: 200, body: { items: [ward], next_cursor: null } },
    'GET /api/v1/conversations/c-1': { status: 200, body: ward },
    'GET /api/v1/roles': { status: 200, body: { items: [{ id: 'r-1', name: 'Night registrar', holders: [], fallback_role_id: null, escalation_role_ids: [] }], next_cursor: null } },
    'GET /api/v1/clinical-policy': { status: 200, body: { escalation: { urgent_after_minutes: 5, emergency_after_minutes: 2, steps: 3 }, categories: [], working_hours: null, alert_off_duty: false, covering_role_id: null } },
    'GET /api/v1/directory': { status: 200, body: { items: [], next_cursor: null } },
    ...extra,
  });
}

function history(...items: ReturnType<typeof message>[]): Record<string, Handler | FakeResponse> {
  const routes: Record<string, Handler | FakeResponse> = { 'GET /api/v1/conversations/c-1/messages': { status: 200, body: { items, has_more: false } } };
  for (const m of items) routes[`GET /api/v1/conversations/c-1/messages/${m.id}/receipts`] = { status: 200, body: { items: [] } };
  return routes;
}

async function goLive() {
  const ws = await waitFor(() => FakeWebSocket.latest());
  act(() => ws.deliver({ type: 'hello', user_id: 'u-me', server_time: '' }));
  act(() => ws.deliver({ type: 'resume.done' }));
  return ws;
}

const liveRegion = () => document.querySelector('[aria-live="polite"][aria-atomic="true"]');

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  setReloadForTests(vi.fn());
});
afterEach(() => {
  vi.unstubAllGlobals();
  onSessionEnded(null);
  window.history.replaceState(null, '', '/');
});

describe('escalation, live', () => {
  it('shows the sender each step from `escalation` events, then exhaustion, and announces them', async () => {
    const mine = message(1, {
      sender_id: 'u-me',
      body: 'Bed 4 NEWS2 7',
      priority: 'urgent',
      requires_ack: true,
      escalation: { state: 'pending', step: 0, next_at: at(5), notified: ['u-bob'] },
    } as never);
    window.history.replaceState(null, '', '/conversations/c-1');
    app(history(mine));
    render(<App />);
    const ws = await goLive();
    const line = await waitFor(() => {
      const el = document.querySelector('.app-escalation');
      if (!el) throw new Error('no escalation line yet');
      return el as HTMLElement;
    });
    expect(line).toHaveTextContent('Escalates if not acknowledged');
    expect(line).toHaveTextContent('Alerted so far: Bob Nurse.');

    act(() => ws.deliver({ type: 'escalation', conversation_id: 'c-1', message_id: mine.id, step: 1, state: 'pending', next_at: at(10), notified: ['u-cat'] }));
    expect(line).toHaveTextContent('Escalated: step 1');
    expect(line).toHaveTextContent('Alerted so far: Bob Nurse and Cat Pharm.');
    expect(line).toHaveAttribute('data-escalation-step', '1');
    expect(liveRegion()).toHaveTextContent('Your urgent message in Ward 7 team was not acknowledged and escalated (step 1)');

    act(() => ws.deliver({ type: 'escalation', conversation_id: 'c-1', message_id: mine.id, step: 3, state: 'exhausted', next_at: null, notified: [] }));
    expect(line).toHaveTextContent('Not acknowledged');
    expect(line).toHaveTextContent('Phone or bleep someone now.');
    expect(liveRegion()).toHaveTextContent('was not acknowledged and has no escalation steps left');
  });

  it('shows an acknowledgement event as acknowledged, after the steps it took', async () => {
    const mine = message(1, { sender_id: 'u-me', priority: 'emergency', requires_ack: true, escalation: { state: 'pending', step: 1, next_at: at(4), notified: ['u-bob', 'u-cat'] } } as never);
    window.history.replaceState(null, '', '/conversations/c-1');
    app(history(mine));
    render(<App />);
    const ws = await goLive();
    await screen.findByText(/Escalated: step 1/);
    act(() => ws.deliver({ type: 'escalation', conversation_id: 'c-1', message_id: mine.id, step: 1, state: 'acknowledged', next_at: null, notified: [] }));
    expect(document.querySelector('.app-escalation')).toHaveTextContent('Acknowledged after 1 escalation step. Alerted so far: Bob Nurse and Cat Pharm.');
    expect(liveRegion()).toHaveTextContent('Your emergency message in Ward 7 team was acknowledged');
  });
});

describe('alerts for urgent messages', () => {
  it('a silent copy (off duty) shows without an alert; a normal urgent one raises the alert banner', async () => {
    app(history());
    render(<App />);
    const ws = await goLive();
    // The conversation list is in before the events come: an event of a conversation the app
    // does not know yet waits for it, and the assertions below read the screen at once.
    await screen.findAllByText('Ward 7 team');
    act(() => ws.deliver({ type: 'message.created', message: message(2, { priority: 'urgent', requires_ack: true, body: 'quiet one' }), silent: true }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    act(() => ws.deliver({ type: 'message.created', message: message(3, { priority: 'emergency', requires_ack: true, body: 'loud one' }) }));
    const banner = screen.getByRole('alert');
    expect(banner).toHaveTextContent('Emergency message from Bob Nurse in Ward 7 team');
    expect(banner).not.toHaveTextContent('loud one'); // never the text
    await userEvent.click(within(banner).getByRole('button', { name: 'Dismiss alert' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('marks a silent copy in the conversation', async () => {
    window.history.replaceState(null, '', '/conversations/c-1');
    app(history(message(1)));
    render(<App />);
    const ws = await goLive();
    await screen.findByText('message 1');
    act(() => ws.deliver({ type: 'message.created', message: message(2, { body: 'for the morning' }), silent: true }));
    expect(await screen.findByText('Delivered silently: you were off duty')).toBeInTheDocument();
    expect(screen.getAllByText('Delivered silently: you were off duty')).toHaveLength(1);
  });

  it('an escalation step that alerts me again raises the banner, unless my copy is silent', async () => {
    app(history());
    render(<App />);
    const ws = await goLive();
    // The conversation list is in before the events come: an event of a conversation the app
    // does not know yet waits for it, and the assertions below read the screen at once.
    await screen.findAllByText('Ward 7 team');
    act(() => ws.deliver({ type: 'message.created', message: message(2, { priority: 'urgent', requires_ack: true }), silent: true }));
    act(() => ws.deliver({ type: 'escalation', conversation_id: 'c-1', message_id: 'm-c-1-2', step: 1, state: 'pending', next_at: at(9), notified: ['u-me'], silent: true }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    act(() => ws.deliver({ type: 'escalation', conversation_id: 'c-1', message_id: 'm-c-1-2', step: 2, state: 'pending', next_at: at(14), notified: ['u-me'] }));
    expect(screen.getByRole('alert')).toHaveTextContent('Urgent message still not acknowledged from Bob Nurse in Ward 7 team (escalation step 2)');
  });
});

describe('send warnings', () => {
  it('tells the sender a recipient is off duty, names the covering role, and links to it', async () => {
    window.history.replaceState(null, '', '/conversations/c-1');
    app({
      ...history(),
      'POST /api/v1/conversations/c-1/messages': (req) => {
        const b = req.body as { client_id: string; body: string };
        return {
          status: 201,
          body: { ...message(1, { sender_id: 'u-me', client_id: b.client_id, body: b.body }), escalation: null, warnings: [{ code: 'recipient_off_duty', user_id: 'u-bob', covering_role_id: 'r-1' }] },
        };
      },
      'GET /api/v1/conversations/c-1/messages/m-c-1-1/receipts': { status: 200, body: { items: [] } },
    });
    render(<App />);
    await goLive();
    await userEvent.type(await screen.findByLabelText('Message'), 'Morning bloods{Enter}');
    const warning = await screen.findByText(/Bob Nurse is off duty: the message reached them silently, without an alert\. Night registrar covers for them\./);
    expect(within(warning).getByRole('link', { name: 'Message Night registrar' })).toHaveAttribute('href', '/roles/r-1');
  });
});

/** Routes for two sends to c-1, each answered with Bob off duty and the role `covering()` names. */
function twoSendsBobOffDuty(covering: () => string): Record<string, Handler | FakeResponse> {
  let seq = 0;
  return {
    'POST /api/v1/conversations/c-1/messages': (req) => {
      const b = req.body as { client_id: string; body: string };
      seq++;
      return {
        status: 201,
        body: { ...message(seq, { sender_id: 'u-me', client_id: b.client_id, body: b.body }), escalation: null, warnings: [{ code: 'recipient_off_duty', user_id: 'u-bob', covering_role_id: covering() }] },
      };
    },
    'GET /api/v1/conversations/c-1/messages/m-c-1-1/receipts': { status: 200, body: { items: [] } },
    'GET /api/v1/conversations/c-1/messages/m-c-1-2/receipts': { status: 200, body: { items: [] } },
  };
}

describe('role names', () => {
  it('names a role created after the roles were first fetched', async () => {
    window.history.replaceState(null, '', '/conversations/c-1');
    const role = (id: string, name: string) => ({ id, name, holders: [], fallback_role_id: null, escalation_role_ids: [] });
    let roles = [role('r-1', 'Night registrar')];
    let covering = 'r-1';
    app({
      ...history(),
      'GET /api/v1/roles': () => ({ status: 200, body: { items: roles, next_cursor: null } }),
      ...twoSendsBobOffDuty(() => covering),
    });
    render(<App />);
    await goLive();
    await userEvent.type(await screen.findByLabelText('Message'), 'Morning bloods{Enter}');
    await screen.findByText(/Night registrar covers for them\./);
    // An admin creates a role and Bob names it as his cover: the list fetched before lacks it.
    roles = [...roles, role('r-2', 'Day registrar')];
    covering = 'r-2';
    await userEvent.type(screen.getByLabelText('Message'), 'Afternoon bloods{Enter}');
    await screen.findByText(/Day registrar covers for them\./);
  });
  it('names a known role in the first render of a later message, without asking again', async () => {
    window.history.replaceState(null, '', '/conversations/c-1');
    const { calls } = app({
      ...history(),
      ...twoSendsBobOffDuty(() => 'r-1'),
    });
    render(<App />);
    await goLive();
    await userEvent.type(await screen.findByLabelText('Message'), 'Morning bloods{Enter}');
    await screen.findByText(/Night registrar covers for them\./);
    // From here on the page must never say "a role" where it knows the name: a reader would
    // see the placeholder flash, and one who looks at once would not learn who covers.
    const placeholders: string[] = [];
    const rolesFetches = () => calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/roles').length;
    const fetchedBefore = rolesFetches();
    const watch = new MutationObserver(() => {
      for (const el of document.querySelectorAll('.app-message')) {
        if (el.textContent?.includes('a role covers')) placeholders.push(el.textContent);
      }
    });
    watch.observe(document.body, { subtree: true, childList: true, characterData: true });
    await userEvent.type(screen.getByLabelText('Message'), 'Afternoon bloods{Enter}');
    await waitFor(() => expect(screen.getAllByText(/Night registrar covers for them\./)).toHaveLength(2));
    watch.disconnect();
    expect(placeholders).toEqual([]);
    expect(rolesFetches()).toBe(fetchedBefore);
  });
});

describe('patients', () => {
  it('checks the NHS number before sending, and sends it in the body only', async () => {
    window.history.replaceState(null, '', '/patients');
    const patient = { id: 'p-1', nhs_number: '9434765919', name: 'Mary Seacole', date_of_birth: '1945-03-10', opted_out: true };
    const { calls } = app({
      'POST /api/v1/patients/lookup': { status: 200, body: patient },
      'GET /api/v1/patients/p-1/timeline': { status: 200, body: { items: [], next_cursor: null } },
    });
    render(<App />);
    await goLive();
    const nhs = await screen.findByLabelText('NHS number');
    await userEvent.type(nhs, '943 476 5918');
    await userEvent.type(screen.getByLabelText('Day'), '10');
    await userEvent.type(screen.getByLabelText('Month'), '3');
    await userEvent.type(screen.getByLabelText('Year'), '1945');
    await userEvent.click(screen.getByRole('button', { name: 'Find patient' }));
    expect(await screen.findByRole('link', { name: /not a valid NHS number/ })).toBeInTheDocument();
    expect(calls.some((c) => c.path.startsWith('/api/v1/patients'))).toBe(false);

    await userEvent.clear(nhs);
    await userEvent.type(nhs, '943 476 5919');
    await userEvent.click(screen.getByRole('button', { name: 'Find patient' }));
    await screen.findByRole('heading', { name: 'Patient timeline' });
    expect(window.location.pathname).toBe('/patients/p-1');
    const banner = screen.getByRole('region', { name: 'Patient: Mary Seacole' });
    expect(banner).toHaveTextContent('943 476 5919');
    expect(banner).toHaveTextContent('10 March 1945');
    expect(banner).toHaveTextContent('National data opt-out');
    expect(calls.find((c) => c.path === '/api/v1/patients/lookup')?.body).toEqual({ nhs_number: '9434765919', date_of_birth: '1945-03-10' });
    for (const c of calls) expect(c.path).not.toMatch(/9434765919|943 476|Seacole|1945/);
    expect(document.title).toBe('Patient timeline – Wardline');
    expect(window.localStorage.length + window.sessionStorage.length).toBe(0);
  });
});

describe('IG console', () => {
  it('shows alerts pushed on the event stream as they arrive', async () => {
    window.history.replaceState(null, '', '/ig/alerts');
    app({ 'GET /api/v1/audit/alerts': { status: 200, body: { items: [], next_cursor: null } } }, user({ org_role: 'auditor' }));
    render(<App />);
    const ws = await goLive();
    await screen.findByText('No alerts.');
    act(() =>
      ws.deliver({
        type: 'alert',
        alert: { id: 'a-1', org_id: 'org-1', kind: 'failed_sign_ins_account', at: at(1), user_id: '', source_addr: '10.0.0.9', target_id: '', count: 5, threshold: 5, audit_seq: 41, message: '5 failed sign-ins to one account within an hour' },
      }),
    );
    expect(screen.getByText('5 failed sign-ins to one account within an hour')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Alerts\s*1 new/ })).toBeInTheDocument();
    expect(liveRegion()).toHaveTextContent('New information governance alert: 5 failed sign-ins to one account within an hour');
  });

  it('refuses an NHS number in a justification before sending it', async () => {
    window.history.replaceState(null, '', '/ig/investigations/open/c-9');
    const { calls } = app({ 'GET /api/v1/audit/investigations': { status: 200, body: { items: [], next_cursor: null } } }, user({ org_role: 'auditor' }));
    render(<App />);
    await goLive();
    expect(await screen.findByLabelText('Conversation ID')).toHaveValue('c-9');
    await userEvent.type(screen.getByLabelText('Justification'), 'Complaint about patient 943 476 5919, ref C-204');
    await userEvent.click(screen.getByRole('button', { name: 'Open investigation' }));
    expect(await screen.findByRole('link', { name: /Do not put an NHS number in the justification/ })).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/audit/investigations')).toBe(false);
  });
});

describe('the rota', () => {
  it('shows staff who is on the rota from now on, without offering to change it', async () => {
    const now = Date.now();
    app({
      'GET /api/v1/directory': { status: 200, body: { items: [{ kind: 'user', id: 'u-bob', display_name: 'Bob Nurse', job_title: 'Staff nurse', profession: 'Nursing' }], next_cursor: null } },
      'GET /api/v1/roles/r-1/rota': { status: 200, body: { items: [{ id: 'e-1', role_id: 'r-1', user_id: 'u-bob', starts_at: new Date(now + 3600_000).toISOString(), ends_at: new Date(now + 13 * 3600_000).toISOString() }], next_cursor: null } },
    });
    window.history.replaceState(null, '', '/roles/r-1');
    render(<App />);
    const list = await screen.findByRole('list', { name: 'Rota for Night registrar' });
    await waitFor(() => expect(within(list).getByRole('listitem')).toHaveTextContent(/^Bob Nurse: /));
    expect(within(list).queryByRole('button')).not.toBeInTheDocument();
  });

  it('shows each person their own rota in every role on the roles page, soonest first', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const { calls } = app({
      'GET /api/v1/me/rota': {
        status: 200,
        body: {
          items: [
            { id: 'e-1', role_id: 'r-1', user_id: 'u-me', role_name: 'Night registrar', starts_at: iso(now - 3600_000), ends_at: iso(now + 11 * 3600_000) },
            { id: 'e-2', role_id: 'r-2', user_id: 'u-me', role_name: 'Crash team', starts_at: iso(now + 24 * 3600_000), ends_at: iso(now + 36 * 3600_000) },
          ],
          next_cursor: null,
        },
      },
    });
    window.history.replaceState(null, '', '/roles');
    render(<App />);
    const list = await screen.findByRole('list', { name: 'Your rota' });
    const [first, second, ...rest] = within(list).getAllByRole('listitem');
    expect([first, second].map((li) => li?.textContent?.split(':')[0])).toEqual(['Night registrar', 'Crash team']);
    expect(rest).toHaveLength(0);
    expect(within(first as HTMLElement).getByText('Now')).toBeInTheDocument();
    expect(within(second as HTMLElement).queryByText('Now')).not.toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/me/rota')).toHaveLength(1);
  });

  it('says so when the person is on no rota, and when their rota could not be loaded', async () => {
    app({ 'GET /api/v1/me/rota': { status: 200, body: { items: [], next_cursor: null } } });
    window.history.replaceState(null, '', '/roles');
    const { unmount } = render(<App />);
    expect(await screen.findByText('You are on no rota from now on.')).toBeInTheDocument();
    unmount();
    app({ 'GET /api/v1/me/rota': { status: 500, body: { error: { code: 'internal', message: 'internal error' } } } });
    render(<App />);
    expect(await screen.findByText('Your rota could not be loaded. Try again')).toBeInTheDocument();
  });

  it('lists who is on the rota from now on and takes someone off it after confirmation', async () => {
    const hour = 3600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const now = Date.now();
    let entries = [
      { id: 'e-now', role_id: 'r-1', user_id: 'u-bob', starts_at: iso(now - hour), ends_at: iso(now + 8 * hour) },
      { id: 'e-next', role_id: 'r-1', user_id: 'u-cat', starts_at: iso(now + 20 * hour), ends_at: iso(now + 32 * hour) },
    ];
    const { calls } = app(
      {
        'GET /api/v1/directory': {
          status: 200,
          body: {
            items: [
              { kind: 'user', id: 'u-bob', display_name: 'Bob Nurse', job_title: 'Staff nurse', profession: 'Nursing' },
              { kind: 'user', id: 'u-cat', display_name: 'Cat Pharm', job_title: 'Pharmacist', profession: 'Pharmacy' },
            ],
            next_cursor: null,
          },
        },
        'GET /api/v1/roles/r-1/rota': () => ({ status: 200, body: { items: entries, next_cursor: null } }),
        'DELETE /api/v1/admin/roles/r-1/rota/e-next': () => {
          entries = entries.filter((e) => e.id !== 'e-next');
          return { status: 204 };
        },
        'DELETE /api/v1/admin/roles/r-1/rota/e-now': { status: 409, body: { error: { code: 'conflict', message: 'the rota entry has ended' } } },
      },
      user({ org_role: 'admin' }),
    );
    window.history.replaceState(null, '', '/admin/roles');
    render(<App />);
    const u = userEvent.setup();
    const list = await screen.findByRole('list', { name: 'Rota for Night registrar' });
    await waitFor(() => expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual([expect.stringMatching(/^Bob Nurse: .* Now/), expect.stringMatching(/^Cat Pharm: /)]));

    // Nothing changes until the admin confirms.
    await u.click(within(list).getByRole('button', { name: /^Take off the rota Cat Pharm from / }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await u.click(within(list).getByRole('button', { name: 'Keep' }));
    await u.click(within(list).getByRole('button', { name: /^Take off the rota Cat Pharm from / }));
    expect(within(list).getByText('Take Cat Pharm off the rota?')).toBeInTheDocument();
    await u.click(within(list).getByRole('button', { name: 'Yes, take off' }));
    expect(await screen.findByText('Cat Pharm taken off the rota for Night registrar.')).toBeInTheDocument();
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Rota for Night registrar' })).getAllByRole('listitem')).toHaveLength(1));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/v1/admin/roles/r-1/rota/e-next']);

    // A period under way is ended, not removed, and says so; one that has ended meanwhile is refused.
    await u.click(screen.getByRole('button', { name: /^Take off the rota Bob Nurse from / }));
    expect(screen.getByText("End Bob Nurse's period now?")).toBeInTheDocument();
    await u.click(screen.getByRole('button', { name: 'Yes, end it now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That rota entry has already ended.');
  });
});

