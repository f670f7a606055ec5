// The second factor when the phone is lost: one of the ten recovery codes, each good once.
import { type FormEvent, useState } from 'react';
import { ErrorSummary } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

interface Props {
  busy: boolean;
  serverError: string | null;
  onSubmit: (code: string) => void;
}

export function RecoveryCodeForm({ busy, serverError, onSubmit }: Props) {
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = code.trim();
    const p = trimmed ? null : 'Enter one of your recovery codes';
    setProblem(p);
    if (!p) onSubmit(trimmed);
  }

  const error = problem ?? serverError;
  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={error ? [{ field: 'recovery-code', text: error }] : []} />
      <TextField
        id="recovery-code"
        label="Recovery code"
        hint="One of the codes you saved when you set up your authenticator app, like k7dq-m2xa-p9fh. Each code works once."
        autoComplete="off"
        spellCheck={false}
        width={20}
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
