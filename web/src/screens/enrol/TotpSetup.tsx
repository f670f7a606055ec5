// Adding Wardline to an authenticator app: a QR code of the otpauth:// URL (drawn here, never by
// an outside service), the same secret as text to type in, and a code to prove it works.
import { type FormEvent, useEffect, useState } from 'react';
import { confirmTotp, startTotp } from '../../api/auth';
import { isApiError } from '../../api/client';
import type { TotpEnrolment } from '../../api/types';
import { ErrorSummary } from '../../components/ErrorSummary';
import { QrCode } from '../../components/QrCode';
import { TextField } from '../../components/TextField';

/** The secret in groups of four, easier to read out and type; authenticator apps ignore the spaces. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function TotpSetup({ onEnrolled }: { onEnrolled: (recoveryCodes: string[]) => void }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    startTotp().then(
      (e) => live && setEnrolment(e),
      () => live && setError('Sorry, set-up could not start. Try again later'),
    );
    return () => {
      live = false;
    };
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const digits = code.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(digits)) {
      setError('Enter the 6-digit code from your authenticator app');
      return;
    }
    setBusy(true);
    try {
      const r = await confirmTotp(digits);
      onEnrolled(r.recovery_codes);
    } catch (err) {
      setError(
        isApiError(err, 'invalid') ? 'The code is not correct. Check that the time on your phone is right, and enter the newest code'
        : isApiError(err, 'rate_limited') || isApiError(err, 'locked') ? 'Too many wrong codes. Wait a few minutes and try again'
        : isApiError(err, 'conflict') ? 'Set-up has expired. Reload the page to start again'
        : 'Sorry, set-up failed. Try again later',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={error ? [{ field: 'enrol-code', text: error }] : []} />
      <ol className="nhsuk-list nhsuk-list--number">
        <li>Open an authenticator app on your phone, such as Microsoft Authenticator or Google Authenticator, and add an account.</li>
        <li>Scan the QR code, or type in the set-up key.</li>
        <li>Enter the 6-digit code the app then shows.</li>
      </ol>
      {enrolment ? (
        <div className="app-totp-setup">
          <QrCode value={enrolment.otpauth_url} label="QR code to add Wardline to your authenticator app" />
          <div>
            <p className="nhsuk-u-margin-bottom-1">Set-up key</p>
            <p className="app-secret-line">
              <code className="app-secret" data-secret={enrolment.secret}>
                {groupSecret(enrolment.secret)}
              </code>
            </p>
            <p className="nhsuk-body-s">
              On this phone? <a href={enrolment.otpauth_url}>Open your authenticator app</a>.
            </p>
          </div>
        </div>
      ) : (
        !error && <p role="status">Preparing set-up…</p>
      )}
      <TextField id="enrol-code" label="Code from the app" inputMode="numeric" autoComplete="one-time-code" width={10} value={code} onChange={setCode} error={error ?? undefined} />
      <button className="nhsuk-button" type="submit" disabled={!enrolment || busy}>
        {busy ? 'Checking…' : 'Confirm'}
      </button>
    </form>
  );
}
