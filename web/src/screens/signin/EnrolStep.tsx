// Setting up a second factor when the organisation requires one and the account has none: an
// authenticator app (then the recovery codes, shown once) or a passkey.
import { useState } from 'react';
import { passkeysSupported } from '../../api/webauthn';
import { RecoveryCodes } from '../../components/RecoveryCodes';
import { PasskeySetup } from '../enrol/PasskeySetup';
import { TotpSetup } from '../enrol/TotpSetup';

export type EnrolPhase = 'totp' | 'passkey' | 'codes';

export function EnrolStep({ onPhase, onDone }: { onPhase: (p: EnrolPhase) => void; onDone: () => void }) {
  const [phase, setPhaseState] = useState<EnrolPhase>('totp');
  const [codes, setCodes] = useState<string[]>([]);
  const setPhase = (p: EnrolPhase) => {
    setPhaseState(p);
    onPhase(p);
  };

  if (phase === 'codes') {
    return (
      <>
        <div className="nhsuk-inset-text" role="status">
          <p>Your authenticator app is set up. From now on Wardline asks for its code when you sign in.</p>
        </div>
        <RecoveryCodes codes={codes} />
        <button className="nhsuk-button" type="button" onClick={onDone}>
          I have saved my recovery codes
        </button>
      </>
    );
  }

  return (
    <>
      <p>Your organisation asks for a second step when you sign in, so that a password alone is not enough.</p>
      {phase === 'totp' ? (
        <>
          <TotpSetup
            onEnrolled={(c) => {
              setCodes(c);
              setPhase('codes');
            }}
          />
          {passkeysSupported() && (
            <p>
              <button type="button" className="app-link-button" onClick={() => setPhase('passkey')}>
                Use a passkey instead
              </button>
            </p>
          )}
        </>
      ) : (
        <>
          <p>A passkey uses this device’s fingerprint, face or PIN check. It only works on this device, or on a phone that holds it.</p>
          <PasskeySetup onRegistered={onDone} />
          <p>
            <button type="button" className="app-link-button" onClick={() => setPhase('totp')}>
              Use an authenticator app instead
            </button>
          </p>
        </>
      )}
    </>
  );
}
