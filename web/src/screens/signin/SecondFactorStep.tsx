// The second step of signing in: the authenticator app's code, a passkey, or a recovery code,
// with links between them for the ones this account has.
import { useState } from 'react';
import type { MfaChallenge } from '../../api/auth';
import { passkeysSupported } from '../../api/webauthn';
import { RecoveryCodeForm } from './RecoveryCodeForm';
import { TotpForm } from './TotpForm';
import type { SecondFactorMethod } from './messages';

interface Props {
  challenge: MfaChallenge;
  method: SecondFactorMethod;
  busy: boolean;
  error: string | null;
  onMethod: (m: SecondFactorMethod) => void;
  onCode: (method: 'totp' | 'recovery', code: string) => void;
  onPasskey: () => void;
  onCancel: () => void;
}

const SWITCH_LABEL: Record<SecondFactorMethod, string> = {
  totp: 'Use your authenticator app',
  passkey: 'Use a passkey',
  recovery: 'Use a recovery code',
};

export function SecondFactorStep({ challenge, method, busy, error, onMethod, onCode, onPasskey, onCancel }: Props) {
  const offered: SecondFactorMethod[] = [];
  if (challenge.methods.includes('totp')) offered.push('totp');
  if (challenge.methods.includes('webauthn') && passkeysSupported()) offered.push('passkey');
  // Recovery codes are offered with the app they back up, even when the server did not list any
  // left: the answer then says the code is not right, which says nothing new.
  if (challenge.methods.includes('recovery_code') || challenge.methods.includes('totp')) offered.push('recovery');
  const others = offered.filter((m) => m !== method);
  const [passkeyStarted, setPasskeyStarted] = useState(false);

  return (
    <>
      {method === 'totp' && <TotpForm busy={busy} serverError={error} onSubmit={(c) => onCode('totp', c)} />}
      {method === 'recovery' && <RecoveryCodeForm busy={busy} serverError={error} onSubmit={(c) => onCode('recovery', c)} />}
      {method === 'passkey' && (
        <>
          {error && (
            <div className="nhsuk-error-summary" role="alert" tabIndex={-1}>
              <h2 className="nhsuk-error-summary__heading">There is a problem</h2>
              <div className="nhsuk-error-summary__body">
                <p>{error}</p>
              </div>
            </div>
          )}
          <p>Use the passkey on this device or your phone: your browser will ask for your fingerprint, face or device PIN.</p>
          <button
            className="nhsuk-button"
            type="button"
            disabled={busy}
            onClick={() => {
              setPasskeyStarted(true);
              onPasskey();
            }}
          >
            {busy ? 'Waiting for your passkey…' : passkeyStarted && error ? 'Try the passkey again' : 'Use my passkey'}
          </button>
        </>
      )}
      {others.length > 0 && (
        <>
          <h2 className="nhsuk-heading-s">Other ways to sign in</h2>
          <ul className="nhsuk-list">
            {others.map((m) => (
              <li key={m}>
                <button type="button" className="app-link-button" onClick={() => onMethod(m)}>
                  {SWITCH_LABEL[m]}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={onCancel}>
        Start again
      </button>
    </>
  );
}
