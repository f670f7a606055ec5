import { describe, expect, it } from 'vitest';
import type { Policy } from '../../api/types';
import { validatePolicy } from './PolicyScreen';

const current: Policy = {
  session_idle_minutes: 60,
  session_absolute_minutes: 840,
  login_lock_failures: 10,
  login_addr_failures: 50,
  login_window_minutes: 15,
  login_lock_minutes: 15,
  lock_idle_seconds: 120,
  mfa_required: true,
  passwordless_allowed: false,
};

const draft = (over: Record<string, string | boolean> = {}) =>
  ({ ...Object.fromEntries(Object.entries(current).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])), ...over }) as Parameters<typeof validatePolicy>[0];

describe('policy validation', () => {
  it('sends only what changed', () => {
    expect(validatePolicy(draft(), current)).toEqual({ problems: [], change: {} });
    expect(validatePolicy(draft({ lock_idle_seconds: ' 10 ', passwordless_allowed: true }), current).change).toEqual({ lock_idle_seconds: 10, passwordless_allowed: true });
  });

  it('refuses numbers outside what the server allows, and anything not a whole number', () => {
    const { problems, change } = validatePolicy(draft({ lock_idle_seconds: '9', session_absolute_minutes: '841', login_lock_failures: '2.5', login_window_minutes: '' }), current);
    expect(problems.map((p) => p.field)).toEqual(['policy-lock_idle_seconds', 'policy-session_absolute_minutes', 'policy-login_lock_failures', 'policy-login_window_minutes']);
    expect(problems[0]!.text).toBe('Lock the screen after this many seconds without use: enter a whole number from 10 to 120');
    expect(change).toEqual({});
  });
});
