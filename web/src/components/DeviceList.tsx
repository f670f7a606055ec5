// Signed-in devices (sessions): what, where from, since when, last used; this one marked; a
// "Sign out" per device. Used on my security page and in the admin console.
import { useState } from 'react';
import type { DeviceSession } from '../api/types';
import { Time } from './Time';

interface Props {
  sessions: DeviceSession[];
  /** Whose devices, for button labels read out of context ("Sign out Sam's Chrome on Windows"). */
  owner?: string;
  onEnd: (s: DeviceSession) => Promise<void>;
}

export function DeviceList({ sessions, owner, onEnd }: Props) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function end(s: DeviceSession) {
    setBusy(s.id);
    setError(null);
    try {
      await onEnd(s);
    } catch {
      setError('That device could not be signed out. Try again');
    } finally {
      setBusy(null);
    }
  }

  if (sessions.length === 0) return <p>No devices are signed in.</p>;
  return (
    <>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      <ul className="app-devices">
        {sessions.map((s) => (
          <li key={s.id} className="app-device">
            <div className="app-device__what">
              <strong>{s.name || 'Unknown device'}</strong>
              {s.current && <strong className="nhsuk-tag nhsuk-tag--green app-tag-small">This device</strong>}
              {s.locked_at && <strong className="nhsuk-tag nhsuk-tag--grey app-tag-small">Locked</strong>}
            </div>
            <div className="app-device__meta app-muted">
              Signed in <Time iso={s.created_at} />, last used <Time iso={s.last_seen_at} />
              {s.address && <>, from {s.address}</>}
            </div>
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small app-device__end" disabled={busy === s.id} onClick={() => void end(s)}>
              {s.current ? 'Sign out of this device' : 'Sign out'}
              <span className="nhsuk-u-visually-hidden">
                {' '}
                {owner ? `${owner} on ` : ''}
                {s.name || 'this device'}, signed in {new Date(s.created_at).toLocaleString('en-GB')}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
