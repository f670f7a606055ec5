// An admin's view of one person's sign-in: their devices (sign out one, or everywhere), a
// password reset (the new initial password shown once) and a reset of their second factors.
import { useCallback, useEffect, useState } from 'react';
import { endAllUserSessions, endUserSession, resetMfa, resetPassword, userSessions } from '../../api/admin';
import type { DeviceSession, User } from '../../api/types';
import { DeviceList } from '../../components/DeviceList';

type Confirm = 'everywhere' | 'password' | 'mfa' | null;

const CONFIRM_TEXT: Record<Exclude<Confirm, null>, string> = {
  everywhere: 'Every device of theirs signs out at once and Wardline is cleared from each.',
  password: 'They get a new initial password to change when they next sign in, and are signed out everywhere. Their authenticator app and passkeys stay.',
  mfa: 'Their authenticator app, recovery codes, passkeys and PIN are removed and they are signed out everywhere. They set up a second step again when they next sign in. Check who is asking first.',
};

const CONFIRM_BUTTON: Record<Exclude<Confirm, null>, string> = {
  everywhere: 'Yes, sign them out everywhere',
  password: 'Yes, reset their password',
  mfa: 'Yes, reset their second factors',
};

export function StaffSecurityPanel({ user }: { user: User }) {
  const [sessions, setSessions] = useState<DeviceSession[] | null>(null);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [password, setPassword] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setSessions((await userSessions(user.id)).items);
    } catch {
      setError('Their devices could not be loaded. Try again');
    }
  }, [user.id]);

  useEffect(() => {
    void load();
  }, [load]);

  async function run(what: Exclude<Confirm, null>) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      if (what === 'everywhere') {
        await endAllUserSessions(user.id);
        setDone(`${user.display_name} has been signed out everywhere.`);
      } else if (what === 'password') {
        setPassword((await resetPassword(user.id)).initial_password);
      } else {
        await resetMfa(user.id);
        setDone(`${user.display_name}’s second factors have been reset. They set them up again when they next sign in.`);
      }
      setConfirm(null);
      await load();
    } catch {
      setError('That did not work. Try again');
    } finally {
      setBusy(false);
    }
  }

  const name = user.display_name;
  return (
    <div className="app-staff-security" role="region" aria-label={`Sign-in and devices of ${name}`}>
      <h3 className="nhsuk-heading-s">Devices</h3>
      {sessions && (
        <DeviceList
          sessions={sessions.map((s) => ({ ...s, current: false }))}
          owner={name}
          onEnd={async (s) => {
            await endUserSession(user.id, s.id);
            setDone(`${name} has been signed out of ${s.name || 'that device'}.`);
            await load();
          }}
        />
      )}
      <div aria-live="polite" role="status">
        {done && <p className="app-done-text">{done}</p>}
      </div>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      {password && (
        <div className="nhsuk-card nhsuk-card--feature app-created" role="status">
          <div className="nhsuk-card__content nhsuk-card__content--feature">
            <h4 className="nhsuk-card__heading nhsuk-card__heading--feature">Password reset</h4>
            <p>Give {name} this initial password in person or by phone. It is shown only once, and they must change it when they next sign in.</p>
            <p className="app-secret-line">
              <code className="app-secret">{password}</code>
            </p>
            <button type="button" className="nhsuk-button" onClick={() => setPassword(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {confirm ? (
        <div className="app-confirm" role="group" aria-label={`Confirm for ${name}`}>
          <p>{CONFIRM_TEXT[confirm]}</p>
          <div className="app-button-row">
            <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small" disabled={busy} onClick={() => void run(confirm)}>
              {CONFIRM_BUTTON[confirm]}
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="app-button-row">
          {sessions && sessions.length > 0 && (
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirm('everywhere')}>
              Sign out everywhere<span className="nhsuk-u-visually-hidden"> {name}</span>
            </button>
          )}
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirm('password')}>
            Reset password<span className="nhsuk-u-visually-hidden"> of {name}</span>
          </button>
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirm('mfa')}>
            Reset second factors<span className="nhsuk-u-visually-hidden"> of {name}</span>
          </button>
        </div>
      )}
    </div>
  );
}
