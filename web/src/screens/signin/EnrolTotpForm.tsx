// Setting up an authenticator app when the organisation requires a second factor.
import { type FormEvent, useEffect, useState } from 'react';
import { confirmTotp, startTotp } from '../../api/auth';
import { isApiError } from '../../api/client';
import type { TotpEnrolment } from '../../api/types';
import { ErrorSummary } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

export function EnrolTotpForm({ onDone }: { onDone: () => void }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);

  useEffect(() => {
    startTotp().then(setEnrolment, () => setError('Sorry, set-up could not start. Try again later'));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!/^\d{6}$/.test(code.trim())) {
      setError('Enter the 6-digit code from your authenticator app');
      return;
    }
    try {
      const r = await confirmTotp(code.trim());
      setRecovery(r.recovery_codes);
    } catch (err) {
      setError(isApiError(err, 'invalid') || isApiError(err, 'unauthenticated') ? 'The code is not correct. Check the time on your phone and try again' : 'Sorry, set-up failed. Try again later');
    }
  }

  if (recovery) {
    return (
      <div>
        <p>Your authenticator app is set up. Keep these recovery codes somewhere safe; each works once if you lose your phone. They will not be shown again.</p>
        <ul className="app-codes">
          {recovery.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <button className="nhsuk-button" type="button" onClick={onDone}>
          I have saved my recovery codes
        </button>
      </div>
    );
  }

  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={error ? [{ field: 'enrol-code', text: error }] : []} />
      <p>Your organisation requires a second step when you sign in. Add Wardline to an authenticator app on your phone.</p>
      {enrolment && (
        <div className="nhsuk-inset-text">
          <p>
            Set-up key: <code className="app-secret">{enrolment.secret}</code>
          </p>
          <p>
            On this device you can also <a href={enrolment.otpauth_url}>open your authenticator app</a>.
          </p>
        </div>
      )}
      <TextField id="enrol-code" label="Code from the app" inputMode="numeric" autoComplete="one-time-code" width={10} value={code} onChange={setCode} error={error ?? undefined} />
      <button className="nhsuk-button" type="submit" disabled={!enrolment}>
        Confirm
      </button>
    </form>
  );
}
