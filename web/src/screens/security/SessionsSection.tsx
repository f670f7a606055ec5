// My devices: every signed-in session, this one marked, with "Sign out" for each and "Sign out
// everywhere" for a lost or shared phone.
import { useState } from 'react';
import { endMySession } from '../../api/security';
import type { DeviceSession } from '../../api/types';
import { DeviceList } from '../../components/DeviceList';
import { useSession } from '../../state/SessionContext';

export function SessionsSection({ sessions, onChanged }: { sessions: DeviceSession[]; onChanged: (message: string) => Promise<void> }) {
  const session = useSession();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function end(s: DeviceSession) {
    if (s.current) {
      await session.signOut();
      return;
    }
    await endMySession(s.id);
    await onChanged(`${s.name || 'The device'} has been signed out.`);
  }

  async function everywhere() {
    setError(null);
    try {
      await session.signOutEverywhere();
    } catch {
      setError('Sorry, signing out everywhere did not work. Try again');
    }
  }

  return (
    <section aria-labelledby="devices-heading">
      <h2 className="nhsuk-heading-m" id="devices-heading">
        Where you are signed in
      </h2>
      <DeviceList sessions={sessions} onEnd={end} />
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      {confirming ? (
        <div className="app-confirm" role="group" aria-label="Confirm signing out everywhere">
          <p>Every device signs out at once, this one too, and Wardline is cleared from each. Use this if you lose a phone or left Wardline open somewhere.</p>
          <div className="app-button-row">
            <button type="button" className="nhsuk-button nhsuk-button--warning" onClick={() => void everywhere()}>
              Yes, sign out everywhere
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="nhsuk-button nhsuk-button--warning" onClick={() => setConfirming(true)}>
          Sign out everywhere
        </button>
      )}
    </section>
  );
}
