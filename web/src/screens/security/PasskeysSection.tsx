// My passkeys: the list (name, added, last used), adding one on this device, removing one.
import { useState } from 'react';
import { isApiError } from '../../api/client';
import { removePasskey } from '../../api/security';
import type { Passkey } from '../../api/types';
import { passkeysSupported } from '../../api/webauthn';
import { Time } from '../../components/Time';
import { PasskeySetup } from '../enrol/PasskeySetup';

interface Props {
  passkeys: Passkey[];
  onChanged: (message: string) => Promise<void>;
}

export function PasskeysSection({ passkeys, onChanged }: Props) {
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function remove(p: Passkey) {
    setBusy(p.id);
    setError(null);
    try {
      await removePasskey(p.id);
      await onChanged(`The passkey ${p.name} has been removed.`);
    } catch (e) {
      setError(isApiError(e, 'conflict') ? 'Your organisation requires a second step when you sign in, and this is your last one. Add another first' : 'Sorry, the passkey could not be removed. Try again');
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="passkeys-heading">
      <h2 className="nhsuk-heading-m" id="passkeys-heading">
        Passkeys
      </h2>
      <p>A passkey signs you in with this device’s fingerprint, face or PIN check, and can unlock a locked screen.</p>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      {passkeys.length === 0 ? (
        <p>You have no passkeys.</p>
      ) : (
        <ul className="app-devices" aria-label="Your passkeys">
          {passkeys.map((p) => (
            <li key={p.id} className="app-device">
              <div className="app-device__what">
                <strong>{p.name}</strong>
              </div>
              <div className="app-device__meta app-muted">
                Added <Time iso={p.created_at} />
                {p.last_used_at ? (
                  <>
                    , last used <Time iso={p.last_used_at} />
                  </>
                ) : (
                  ', not used yet'
                )}
              </div>
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small app-device__end" disabled={busy === p.id} onClick={() => void remove(p)}>
                Remove<span className="nhsuk-u-visually-hidden"> passkey {p.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {!passkeysSupported() ? (
        <p className="nhsuk-body-s">This browser cannot make passkeys here.</p>
      ) : adding ? (
        <>
          <PasskeySetup
            submitLabel="Create passkey"
            onRegistered={(p) => {
              setAdding(false);
              void onChanged(`The passkey ${p.name} has been added.`);
            }}
          />
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setAdding(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setAdding(true)}>
          Add a passkey
        </button>
      )}
    </section>
  );
}
