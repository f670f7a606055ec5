// The organisation's sign-in policy: second step required, passwordless passkeys, the screen
// lock's idle time, session and lockout limits. Limits may only tighten (the server caps each at
// its default), so the form says the range and checks it before sending.
import { type FormEvent, useEffect, useState } from 'react';
import { getPolicy, updatePolicy } from '../../api/admin';
import { isApiError } from '../../api/client';
import type { Policy } from '../../api/types';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { PageHeading } from '../../components/PageHeading';
import { TextField } from '../../components/TextField';
import { Link } from '../../router';
import { useSession } from '../../state/SessionContext';

type NumberKey = Exclude<keyof Policy, 'mfa_required' | 'passwordless_allowed'>;

interface NumberField {
  key: NumberKey;
  label: string;
  unit: string;
  min: number;
  max: number;
  hint?: string;
}

export const POLICY_NUMBERS: readonly NumberField[] = [
  { key: 'lock_idle_seconds', label: 'Lock the screen after this many seconds without use', unit: 'seconds', min: 10, max: 120 },
  { key: 'session_idle_minutes', label: 'Sign out after this many minutes without use', unit: 'minutes', min: 1, max: 60 },
  { key: 'session_absolute_minutes', label: 'Sign out after this many minutes in any case', unit: 'minutes', min: 1, max: 840, hint: '840 minutes is 14 hours, a long shift.' },
  { key: 'login_lock_failures', label: 'Lock an account after this many failed sign-ins', unit: 'failed sign-ins', min: 1, max: 10 },
  { key: 'login_addr_failures', label: 'Refuse a network after this many failed sign-ins from it', unit: 'failed sign-ins', min: 1, max: 50 },
  { key: 'login_window_minutes', label: 'Count failed sign-ins over this many minutes', unit: 'minutes', min: 1, max: 15 },
  { key: 'login_lock_minutes', label: 'Keep a locked account locked for this many minutes', unit: 'minutes', min: 1, max: 15 },
];

type Draft = Record<NumberKey, string> & { mfa_required: boolean; passwordless_allowed: boolean };

function toDraft(p: Policy): Draft {
  const d = { mfa_required: p.mfa_required, passwordless_allowed: p.passwordless_allowed } as Draft;
  for (const f of POLICY_NUMBERS) d[f.key] = String(p[f.key]);
  return d;
}

/** Checks the draft; answers the problems, or the change to send (only the fields that changed). */
export function validatePolicy(draft: Draft, current: Policy): { problems: Problem[]; change: Partial<Policy> } {
  const problems: Problem[] = [];
  const change: Partial<Policy> = {};
  for (const f of POLICY_NUMBERS) {
    const raw = draft[f.key].trim();
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < f.min || n > f.max) {
      problems.push({ field: `policy-${f.key}`, text: `${f.label}: enter a whole number from ${f.min} to ${f.max}` });
    } else if (n !== current[f.key]) {
      change[f.key] = n;
    }
  }
  if (draft.mfa_required !== current.mfa_required) change.mfa_required = draft.mfa_required;
  if (draft.passwordless_allowed !== current.passwordless_allowed) change.passwordless_allowed = draft.passwordless_allowed;
  return { problems, change };
}

export function PolicyScreen() {
  const session = useSession();
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    getPolicy().then(
      (p) => {
        setPolicy(p);
        setDraft(toDraft(p));
      },
      () => setLoadError('The policy could not be loaded. Try again'),
    );
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!policy || !draft) return;
    const { problems: found, change } = validatePolicy(draft, policy);
    setProblems(found);
    setSaved(null);
    if (found.length > 0) return;
    if (Object.keys(change).length === 0) {
      setSaved('Nothing has changed.');
      return;
    }
    setBusy(true);
    try {
      const next = await updatePolicy(change);
      setPolicy(next);
      setDraft(toDraft(next));
      setSaved('The policy has been saved. It applies to sign-ins from now on.');
      // My own screen lock follows a new idle time at once.
      if (change.lock_idle_seconds !== undefined) void session.refreshSecurity().catch(() => undefined);
    } catch (err) {
      setProblems([{ text: isApiError(err, 'invalid') ? `The policy was not saved: ${err.message}` : 'Sorry, the policy could not be saved. Try again' }]);
    } finally {
      setBusy(false);
    }
  }

  const set = (k: keyof Draft) => (v: string | boolean) => setDraft((d) => (d ? ({ ...d, [k]: v } as Draft) : d));
  const err = (k: string) => problems.find((p) => p.field === `policy-${k}`)?.text;

  return (
    <>
      <nav className="nhsuk-back-link" aria-label="Back">
        <Link className="nhsuk-back-link__link" href="/admin/staff">
          Staff
        </Link>
      </nav>
      <PageHeading>Sign-in policy</PageHeading>
      <p>These rules apply to everyone in your organisation. Limits can be made stricter than the NHS defaults, never looser.</p>
      {loadError && (
        <p className="nhsuk-error-message" role="alert">
          {loadError}
        </p>
      )}
      <div aria-live="polite" role="status">
        {saved && (
          <div className="nhsuk-inset-text app-done">
            <p>{saved}</p>
          </div>
        )}
      </div>
      {draft && (
        <form onSubmit={submit} noValidate>
          <ErrorSummary problems={problems} />
          <fieldset className="nhsuk-fieldset">
            <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Signing in</legend>
            <div className="nhsuk-checkboxes">
              <div className="nhsuk-checkboxes__item">
                <input className="nhsuk-checkboxes__input" id="policy-mfa" type="checkbox" checked={draft.mfa_required} onChange={(e) => set('mfa_required')(e.target.checked)} aria-describedby="policy-mfa-hint" />
                <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="policy-mfa">
                  Require a second step (authenticator app or passkey)
                </label>
                <div className="nhsuk-hint nhsuk-checkboxes__hint" id="policy-mfa-hint">
                  Staff without one set it up when they next sign in.
                </div>
              </div>
              <div className="nhsuk-checkboxes__item">
                <input
                  className="nhsuk-checkboxes__input"
                  id="policy-passwordless"
                  type="checkbox"
                  checked={draft.passwordless_allowed}
                  onChange={(e) => set('passwordless_allowed')(e.target.checked)}
                  aria-describedby="policy-passwordless-hint"
                />
                <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="policy-passwordless">
                  Allow signing in with a passkey alone
                </label>
                <div className="nhsuk-hint nhsuk-checkboxes__hint" id="policy-passwordless-hint">
                  A passkey checks a fingerprint, face or device PIN, so it counts as two steps.
                </div>
              </div>
            </div>
          </fieldset>
          <fieldset className="nhsuk-fieldset">
            <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Limits</legend>
            {POLICY_NUMBERS.map((f) => (
              <TextField
                key={f.key}
                id={`policy-${f.key}`}
                label={f.label}
                hint={`From ${f.min} to ${f.max} ${f.unit}.${f.hint ? ` ${f.hint}` : ''}`}
                inputMode="numeric"
                width={10}
                value={draft[f.key]}
                onChange={(v) => set(f.key)(v)}
                error={err(f.key)}
              />
            ))}
          </fieldset>
          <button type="submit" className="nhsuk-button" disabled={busy}>
            {busy ? 'Saving…' : 'Save policy'}
          </button>
        </form>
      )}
    </>
  );
}
