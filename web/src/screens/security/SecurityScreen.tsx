// Sign-in and security: the screen lock PIN, the authenticator app and recovery codes, passkeys,
// and the devices signed in. Every change re-reads what it changed and says so (aria-live).
import { useCallback, useEffect, useState } from 'react';
import { listMySessions, listPasskeys } from '../../api/security';
import type { DeviceSession, Passkey, Security } from '../../api/types';
import { PageHeading } from '../../components/PageHeading';
import { Link } from '../../router';
import { useSession } from '../../state/SessionContext';
import { PasskeysSection } from './PasskeysSection';
import { PinSection } from './PinSection';
import { SessionsSection } from './SessionsSection';
import { TotpSection } from './TotpSection';

export function SecurityScreen() {
  const session = useSession();
  const [security, setSecurity] = useState<Security | null>(null);
  const [passkeys, setPasskeys] = useState<Passkey[]>([]);
  const [sessions, setSessions] = useState<DeviceSession[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [sec, keys, devices] = await Promise.all([session.refreshSecurity(), listPasskeys(), listMySessions()]);
      setSecurity(sec);
      setPasskeys(keys.items);
      setSessions(devices.items);
      setError(sec ? null : 'Your security settings could not be loaded. Try again');
    } catch {
      setError('Your security settings could not be loaded. Try again');
    }
  }, [session]);

  useEffect(() => {
    void load();
  }, [load]);

  const changed = useCallback(
    async (message: string) => {
      setDone(message);
      await load();
    },
    [load],
  );

  return (
    <>
      <nav className="nhsuk-back-link" aria-label="Back">
        <Link className="nhsuk-back-link__link" href="/me">
          My account
        </Link>
      </nav>
      <PageHeading>Sign-in and security</PageHeading>
      <div aria-live="polite" role="status">
        {done && (
          <div className="nhsuk-inset-text app-done">
            <p>{done}</p>
          </div>
        )}
      </div>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      {security && (
        <>
          <PinSection security={security} onChanged={changed} />
          <TotpSection security={security} onChanged={changed} />
          <PasskeysSection passkeys={passkeys} onChanged={changed} />
        </>
      )}
      <SessionsSection sessions={sessions} onChanged={changed} />
    </>
  );
}
