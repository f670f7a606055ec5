// The authenticator app: whether it is set up, the recovery codes left, new codes (shown once),
// setting it up (where the organisation does not already insist) and removing it.
import { useState } from 'react';
import { isApiError } from '../../api/client';
import { newRecoveryCodes, removeTotp } from '../../api/security';
import type { Security } from '../../api/types';
import { RecoveryCodes } from '../../components/RecoveryCodes';
import { TotpSetup } from '../enrol/TotpSetup';

export function TotpSection({ security, onChanged }: { security: Security; onChanged: (message: string) => Promise<void> }) {
  const [codes, setCodes] = useState<string[] | null>(null);
  const [settingUp, setSettingUp] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function regenerate() {
    setBusy(true);
    setError(null);
    try {
      setCodes((await newRecoveryCodes()).recovery_codes);
      await onChanged('New recovery codes are ready. Your old codes no longer work.');
    } catch {
      setError('Sorry, new recovery codes could not be made. Try again');
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await removeTotp();
      setConfirmRemove(false);
      setCodes(null);
      await onChanged('Your authenticator app has been removed.');
    } catch (e) {
      setError(isApiError(e, 'conflict') ? 'Your organisation requires a second step when you sign in. Add a passkey before you remove your authenticator app' : 'Sorry, your authenticator app could not be removed. Try again');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="totp-heading">
      <h2 className="nhsuk-heading-m" id="totp-heading">
        Authenticator app
      </h2>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      {security.totp ? (
        <>
          <dl className="nhsuk-summary-list">
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Status</dt>
              <dd className="nhsuk-summary-list__value">
                <strong className="nhsuk-tag nhsuk-tag--green app-tag-small">Set up</strong>
              </dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Recovery codes left</dt>
              <dd className="nhsuk-summary-list__value">{security.recovery_codes_remaining}</dd>
            </div>
          </dl>
          {codes ? (
            <div className="nhsuk-card">
              <div className="nhsuk-card__content">
                <h3 className="nhsuk-card__heading">Your new recovery codes</h3>
                <RecoveryCodes codes={codes} />
                <button type="button" className="nhsuk-button" onClick={() => setCodes(null)}>
                  I have saved my recovery codes
                </button>
              </div>
            </div>
          ) : confirmRemove ? (
            <div className="app-confirm" role="group" aria-label="Confirm removing your authenticator app">
              <p>Without an authenticator app or a passkey, signing in needs only your password. Your recovery codes stop working too.</p>
              <div className="app-button-row">
                <button type="button" className="nhsuk-button nhsuk-button--warning" disabled={busy} onClick={() => void remove()}>
                  Yes, remove my authenticator app
                </button>
                <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setConfirmRemove(false)}>
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <div className="app-button-row">
              <button type="button" className="nhsuk-button nhsuk-button--secondary" disabled={busy} onClick={() => void regenerate()}>
                Make new recovery codes
              </button>
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setConfirmRemove(true)}>
                Remove authenticator app
              </button>
            </div>
          )}
        </>
      ) : codes ? (
        <>
          <RecoveryCodes codes={codes} />
          <button type="button" className="nhsuk-button" onClick={() => setCodes(null)}>
            I have saved my recovery codes
          </button>
        </>
      ) : settingUp ? (
        <TotpSetup
          onEnrolled={(c) => {
            setCodes(c);
            setSettingUp(false);
            void onChanged('Your authenticator app is set up.');
          }}
        />
      ) : (
        <>
          <p>You have not set up an authenticator app.</p>
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setSettingUp(true)}>
            Set up an authenticator app
          </button>
        </>
      )}
    </section>
  );
}
