// The second factor: a 6-digit code from an authenticator app.
import { type FormEvent, useState } from 'react';
import { ErrorSummary } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

interface Props {
  busy: boolean;
  serverError: string | null;
  onSubmit: (code: string) => void;
}

export function TotpForm({ busy, serverError, onSubmit }: Props) {
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const digits = code.replace(/[\s-]/g, '');
    const p = /^\d{6}$/.test(digits) ? null : 'Enter the 6-digit code from your authenticator app';
    setProblem(p);
    if (!p) onSubmit(digits);
  }

  const error = problem ?? serverError;
  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={error ? [{ field: 'totp-code', text: error }] : []} />
      <TextField
        id="totp-code"
        label="Security code"
        hint="Enter the 6-digit code shown in your authenticator app"
        inputMode="numeric"
        autoComplete="one-time-code"
        width={10}
        value={code}
        onChange={setCode}
        error={error ?? undefined}
      />
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Checking…' : 'Continue'}
      </button>
    </form>
  );
}
