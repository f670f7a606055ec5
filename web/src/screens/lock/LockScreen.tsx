// The lock screen: everything else has left the DOM. The PIN (or a passkey) unlocks; the server
// counts wrong answers and ends the session at the fifth, which signs out and wipes this browser.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { isApiError } from '../../api/client';
import { isBrowserCredentialError, passkeyErrorText, passkeysSupported } from '../../api/webauthn';
import { ErrorSummary } from '../../components/ErrorSummary';
import { PlainHeader } from '../../components/Header';
import { PageHeading } from '../../components/PageHeading';
import { type LockState, validPin } from '../../state/lock';
import type { Session } from '../../state/session';

function unlockErrorText(e: unknown, triesLeft: number | null): string {
  if (isBrowserCredentialError(e)) return passkeyErrorText(e);
  if (isApiError(e, 'forbidden')) {
    const tries = triesLeft === null ? '' : triesLeft === 1 ? '. You have 1 try left before you are signed out' : `. You have ${triesLeft} tries left before you are signed out`;
    return `${/passkey/i.test(e.message) ? 'The passkey was not accepted' : 'The PIN is not correct'}${tries}`;
  }
  if (isApiError(e, 'conflict')) return 'You have no PIN. Unlock with a passkey, or sign out and sign in again';
  if (isApiError(e, 'network')) return 'Wardline could not be reached. Check your connection and try again';
  if (isApiError(e, 'rate_limited')) return 'Too many attempts. Wait a minute and try again';
  return 'Sorry, Wardline could not be unlocked. Try again';
}

export function LockScreen({ session, lock }: { session: Session; lock: LockState }) {
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const hasPin = lock.security?.pin ?? true; // unknown: offer the PIN, the server says if there is none
  const hasPasskey = (lock.security?.passkeys ?? 0) > 0 && passkeysSupported();

  // Whoever was typing elsewhere lands here: straight into the PIN field.
  useEffect(() => {
    if (hasPin) input.current?.focus();
  }, [hasPin]);

  async function attempt(withPin: boolean) {
    setBusy(true);
    setError(null);
    try {
      await session.unlock(withPin ? pin : undefined);
    } catch (e) {
      setPin('');
      // The error summary takes focus and is announced; its link leads back to the field.
      setError(unlockErrorText(e, session.lock.getState().triesLeft));
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!validPin(pin)) {
      setError('Enter your PIN of 4 to 8 digits');
      return;
    }
    void attempt(true);
  }

  return (
    <>
      <PlainHeader />
      <div className="nhsuk-width-container">
        <main className="nhsuk-main-wrapper" id="maincontent" tabIndex={-1}>
          <div className="nhsuk-grid-row">
            <div className="nhsuk-grid-column-two-thirds">
              <PageHeading>Wardline is locked</PageHeading>
              <p id="lock-intro">
                Wardline locked because it was not used for a while. Nothing is shown until you unlock it. Signed in as <strong>{session.me.display_name}</strong>.
              </p>
              <ErrorSummary problems={error ? [{ field: hasPin ? 'unlock-pin' : undefined, text: error }] : []} />
              {hasPin && (
                <form onSubmit={submit} noValidate>
                  <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
                    <label className="nhsuk-label" htmlFor="unlock-pin">
                      PIN
                    </label>
                    <div className="nhsuk-hint" id="unlock-pin-hint">
                      {lock.triesLeft === null ? 'Enter your Wardline PIN to unlock.' : `${lock.triesLeft} ${lock.triesLeft === 1 ? 'try' : 'tries'} left. After that you are signed out and Wardline is cleared from this device.`}
                    </div>
                    <input
                      ref={input}
                      id="unlock-pin"
                      name="unlock-pin"
                      className={`nhsuk-input nhsuk-input--width-10${error ? ' nhsuk-input--error' : ''}`}
                      type="password"
                      inputMode="numeric"
                      autoComplete="off"
                      maxLength={8}
                      value={pin}
                      onChange={(e) => setPin(e.target.value.replace(/\s/g, ''))}
                      aria-describedby="unlock-pin-hint lock-intro"
                      aria-invalid={error ? true : undefined}
                    />
                  </div>
                  <button className="nhsuk-button" type="submit" disabled={busy}>
                    {busy ? 'Unlocking…' : 'Unlock'}
                  </button>
                </form>
              )}
              <div className="app-button-row">
                {hasPasskey && (
                  <button className={`nhsuk-button${hasPin ? ' nhsuk-button--secondary' : ''}`} type="button" disabled={busy} onClick={() => void attempt(false)}>
                    Unlock with a passkey
                  </button>
                )}
                <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={() => void session.signOut()}>
                  Sign out
                </button>
              </div>
            </div>
          </div>
        </main>
      </div>
    </>
  );
}
