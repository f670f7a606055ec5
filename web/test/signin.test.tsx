import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { onSessionEnded } from '../src/api/client';
import { setReloadForTests } from '../src/state/wipe';
import { FakeWebSocket, apiError, mockApi, user } from './fakeServer';

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  window.history.replaceState(null, '', '/');
  setReloadForTests(vi.fn());
});
afterEach(() => {
  vi.unstubAllGlobals();
  onSessionEnded(null);
});

const signedOut = { 'GET /api/v1/me': apiError(401, 'unauthenticated') };

async function signIn(email = 'ada@example.nhs.uk', password = 'Temp-pass-123') {
  const u = userEvent.setup();
  await screen.findByRole('heading', { name: 'Sign in to Wardline' });
  await u.type(screen.getByLabelText('Email address'), email);
  await u.type(screen.getByLabelText('Password'), password);
  await u.click(screen.getByRole('button', { name: 'Sign in' }));
  return u;
}

function errorSummary() {
  return screen.getByRole('heading', { name: 'There is a problem' }).closest('.nhsuk-error-summary') as HTMLElement;
}

describe('sign-in', () => {
  it('asks for the email and password before calling the server', async () => {
    const { calls } = mockApi(signedOut);
    render(<App />);
    const u = userEvent.setup();
    await u.click(await screen.findByRole('button', { name: 'Sign in' }));
    const summary = errorSummary();
    expect(within(summary).getByRole('link', { name: 'Enter your email address' })).toHaveAttribute('href', '#email');
    expect(within(summary).getByRole('link', { name: 'Enter your password' })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/auth/login')).toHaveLength(0);
  });

  it('signs in with the CSRF header so the token stays in the cookie', async () => {
    const me = user();
    const { calls } = mockApi({
      ...signedOut,
      'POST /api/v1/auth/login': { status: 200, body: { expires_at: '2026-01-01T20:00:00Z', user: me } },
      'GET /api/v1/conversations': { status: 200, body: { items: [], next_cursor: null } },
    });
    render(<App />);
    await signIn();
    expect(await screen.findByRole('heading', { name: 'Conversations' })).toBeInTheDocument();
    const login = calls.find((c) => c.path === '/api/v1/auth/login')!;
    expect(login.headers['X-Wardline-CSRF']).toBe('1');
    expect(login.body).toEqual({ email: 'ada@example.nhs.uk', password: 'Temp-pass-123' });
    expect(FakeWebSocket.latest().url).toBe('ws://localhost:3000/api/v1/events?receipts=batched');
    expect(window.localStorage.length + window.sessionStorage.length).toBe(0);
  });

  it('signs in to a named organisation for an address held in more than one, and the header names it', async () => {
    const me = user({ org_name: 'Southgate Community Trust' });
    const { calls } = mockApi({
      ...signedOut,
      'POST /api/v1/auth/login': { status: 200, body: { expires_at: '2026-01-01T20:00:00Z', user: me } },
      'GET /api/v1/conversations': { status: 200, body: { items: [], next_cursor: null } },
    });
    render(<App />);
    const u = userEvent.setup();
    await screen.findByRole('heading', { name: 'Sign in to Wardline' });
    expect(screen.getByLabelText('Organisation (optional)')).not.toBeVisible();
    await u.click(screen.getByText('I work for more than one organisation'));
    await u.type(screen.getByLabelText('Organisation (optional)'), ' Southgate Community Trust ');
    await u.type(screen.getByLabelText('Email address'), 'sam.okafor@nhs.net');
    await u.type(screen.getByLabelText('Password'), 'correct horse battery staple');
    await u.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Conversations' })).toBeInTheDocument();
    const login = calls.find((c) => c.path === '/api/v1/auth/login')!;
    expect(login.body).toEqual({ email: 'sam.okafor@nhs.net', password: 'correct horse battery staple', org: 'Southgate Community Trust' });
    expect(within(screen.getByRole('banner')).getByText('Southgate Community Trust')).toBeInTheDocument();
    expect(window.localStorage.length + window.sessionStorage.length).toBe(0);
  });

  it('says the organisation may be what is wrong when one was named', async () => {
    mockApi({ ...signedOut, 'POST /api/v1/auth/login': apiError(401, 'unauthenticated') });
    render(<App />);
    const u = userEvent.setup();
    await screen.findByRole('heading', { name: 'Sign in to Wardline' });
    await u.click(screen.getByText('I work for more than one organisation'));
    await u.type(screen.getByLabelText('Organisation (optional)'), 'Nowhere Trust');
    await u.type(screen.getByLabelText('Email address'), 'sam.okafor@nhs.net');
    await u.type(screen.getByLabelText('Password'), 'wrong');
    await u.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await within(errorSummary()).findByText('The email address, password or organisation is not correct')).toBeInTheDocument();
  });

  it('makes a person with a temporary password choose a new one, then sign in again', async () => {
    const me = user();
    const { calls } = mockApi({
      ...signedOut,
      'POST /api/v1/auth/login': { status: 200, body: { expires_at: '2026-01-01T20:00:00Z', user: me, password_change_required: true } },
      'POST /api/v1/me/password': { status: 204 },
      'POST /api/v1/auth/logout': { status: 204 },
    });
    render(<App />);
    const u = await signIn('ada@example.nhs.uk', 'Temp-pass-123');
    expect(await screen.findByRole('heading', { name: 'Create a new password' })).toBeInTheDocument();
    expect(screen.queryByLabelText('Current password')).not.toBeInTheDocument();

    await u.type(screen.getByLabelText('New password'), 'correct horse battery staple');
    await u.type(screen.getByLabelText('Confirm new password'), 'correct horse battery stapel');
    await u.click(screen.getByRole('button', { name: 'Save new password' }));
    expect(within(errorSummary()).getByText('The passwords do not match')).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/me/password')).toBe(false);

    await u.clear(screen.getByLabelText('Confirm new password'));
    await u.type(screen.getByLabelText('Confirm new password'), 'correct horse battery staple');
    await u.click(screen.getByRole('button', { name: 'Save new password' }));

    expect(await screen.findByRole('heading', { name: 'Sign in to Wardline' })).toBeInTheDocument();
    expect(screen.getByText('Your password has been changed. Sign in with your new password.')).toBeInTheDocument();
    const change = calls.find((c) => c.path === '/api/v1/me/password')!;
    expect(change.body).toEqual({ current_password: 'Temp-pass-123', new_password: 'correct horse battery staple' });
    expect(change.headers['X-Wardline-CSRF']).toBe('1');
    expect(calls.some((c) => c.path === '/api/v1/auth/logout')).toBe(true);
    expect(calls.some((c) => c.path === '/api/v1/conversations')).toBe(false);
    expect(screen.getByLabelText('Email address')).toHaveValue('ada@example.nhs.uk');
  });

  const failures: [string, number, string, RegExp][] = [
    ['wrong password', 401, 'unauthenticated', /email address or password is not correct/],
    ['suspended account', 403, 'forbidden', /account is suspended/],
    ['locked account', 423, 'locked', /locked after too many failed attempts to sign in\. Try again in 15 minutes/],
    ['too many attempts from this network', 429, 'rate_limited', /too many attempts to sign in from this network/],
  ];
  for (const [name, status, code, text] of failures) {
    it(`explains a ${name} (${status})`, async () => {
      mockApi({ ...signedOut, 'POST /api/v1/auth/login': apiError(status, code, 'server words') });
      render(<App />);
      await signIn();
      await waitFor(() => expect(within(errorSummary()).getByText(text)).toBeInTheDocument());
      expect(screen.getByRole('heading', { name: 'Sign in to Wardline' })).toBeInTheDocument();
    });
  }

  it('uses Retry-After for the lockout time when the server sends it', async () => {
    mockApi({ ...signedOut, 'POST /api/v1/auth/login': { ...apiError(423, 'locked'), headers: { 'Retry-After': '300' } } });
    render(<App />);
    await signIn();
    expect(await screen.findByText(/Try again in 5 minutes/)).toBeInTheDocument();
  });

  it('asks for a security code when the account has a second factor', async () => {
    const me = user();
    const { calls } = mockApi({
      ...signedOut,
      'POST /api/v1/auth/login': { status: 401, body: { error: { code: 'mfa_required', message: 'x' }, mfa_token: 'mfa-123', methods: ['totp', 'webauthn'] } },
      'POST /api/v1/auth/mfa/totp': ({ body }) =>
        (body as { code: string }).code === '123456'
          ? { status: 200, body: { expires_at: '2026-01-01T20:00:00Z', user: me } }
          : // the server's answer to a wrong code: the same token may be tried again
            { status: 401, body: { error: { code: 'mfa_required', message: 'the code is not right (or was used already)' }, mfa_token: 'mfa-123', methods: ['totp', 'webauthn'] } },
      'GET /api/v1/conversations': { status: 200, body: { items: [], next_cursor: null } },
    });
    render(<App />);
    const u = await signIn();
    expect(await screen.findByRole('heading', { name: 'Enter your security code' })).toBeInTheDocument();
    await u.type(screen.getByLabelText('Security code'), '654321');
    await u.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(within(errorSummary()).getByText(/security code is not correct/)).toBeInTheDocument());
    await u.clear(screen.getByLabelText('Security code'));
    await u.type(screen.getByLabelText('Security code'), '123456');
    await u.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { name: 'Conversations' })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/auth/mfa/totp').map((c) => c.body)).toEqual([
      { mfa_token: 'mfa-123', code: '654321' },
      { mfa_token: 'mfa-123', code: '123456' },
    ]);
  });

  it('offers a recovery code instead, and starts again when the second step has expired', async () => {
    const { calls } = mockApi({
      ...signedOut,
      'POST /api/v1/auth/login': { status: 401, body: { error: { code: 'mfa_required', message: 'x' }, mfa_token: 'mfa-9', methods: ['totp', 'recovery_code'] } },
      'POST /api/v1/auth/mfa/recovery': apiError(401, 'unauthenticated', 'the sign-in has expired'),
    });
    render(<App />);
    const u = await signIn();
    await screen.findByRole('heading', { name: 'Enter your security code' });
    await u.click(screen.getByRole('button', { name: 'Use a recovery code' }));
    expect(await screen.findByRole('heading', { name: 'Enter a recovery code' })).toHaveFocus();
    await u.type(screen.getByLabelText('Recovery code'), 'k7dq-m2xa-p9fh');
    await u.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { name: 'Sign in to Wardline' })).toBeInTheDocument();
    expect(within(errorSummary()).getByText(/timed out, or there were too many wrong answers/)).toBeInTheDocument();
    expect(calls.find((c) => c.path === '/api/v1/auth/mfa/recovery')?.body).toEqual({ mfa_token: 'mfa-9', code: 'k7dq-m2xa-p9fh' });
  });

  it('sets up an authenticator app when the organisation requires one: QR code and key, code, recovery codes once', async () => {
    const me = user();
    const codes = Array.from({ length: 10 }, (_, i) => `code-${i}`);
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const { calls } = mockApi({
      ...signedOut,
      'POST /api/v1/auth/login': { status: 200, body: { expires_at: '2026-01-01T20:00:00Z', user: me, mfa_enrollment_required: true, lock_idle_seconds: 60 } },
      'POST /api/v1/me/totp': { status: 200, body: { secret, otpauth_url: `otpauth://totp/Wardline:ada%40example.nhs.uk?secret=${secret}&issuer=Wardline` } },
      'POST /api/v1/me/totp/confirm': ({ body }) => ((body as { code: string }).code === '123456' ? { status: 200, body: { recovery_codes: codes } } : apiError(400, 'invalid', 'the code is not right')),
      'GET /api/v1/conversations': { status: 200, body: { items: [], next_cursor: null } },
    });
    render(<App />);
    const u = await signIn();
    expect(await screen.findByRole('heading', { name: 'Set up your authenticator app' })).toBeInTheDocument();
    const qr = await screen.findByRole('img', { name: /QR code/ });
    expect(qr.tagName.toLowerCase()).toBe('svg');
    expect(qr.querySelector('path')?.getAttribute('d')).toMatch(/^M\d+ \d+h\d+v1h-\d+z/);
    expect(screen.getByText('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP')).toBeInTheDocument();
    await u.type(screen.getByLabelText('Code from the app'), '000000');
    await u.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(within(errorSummary()).getByText(/The code is not correct/)).toBeInTheDocument();
    await u.clear(screen.getByLabelText('Code from the app'));
    await u.type(screen.getByLabelText('Code from the app'), '123 456');
    await u.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByRole('heading', { name: 'Save your recovery codes' })).toBeInTheDocument();
    expect(within(screen.getByRole('list', { name: 'Recovery codes' })).getAllByRole('listitem').map((li) => li.textContent)).toEqual(codes);
    await u.click(screen.getByRole('button', { name: 'I have saved my recovery codes' }));
    expect(await screen.findByRole('heading', { name: 'Conversations' })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/me/totp/confirm').map((c) => c.body)).toEqual([{ code: '000000' }, { code: '123456' }]);
    expect(document.body.textContent).not.toContain('code-0');
  });

  it('explains why the last session ended', async () => {
    window.history.replaceState(null, '', '/signin?ended=revoked');
    mockApi(signedOut);
    render(<App />);
    expect(await screen.findByText(/signed out because your session was ended/)).toBeInTheDocument();
  });
});
