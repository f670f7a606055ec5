// Email and password: the first step of signing in.
import { type FormEvent, useState } from 'react';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

interface Props {
  initialEmail: string;
  /** The organisation typed before (kept across the steps of one sign-in, never stored). */
  initialOrg?: string;
  busy: boolean;
  serverError: string | null;
  onSubmit: (email: string, password: string, org: string) => void;
}

export function CredentialsForm({ initialEmail, initialOrg = '', busy, serverError, onSubmit }: Props) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState(initialOrg);
  const [problems, setProblems] = useState<Problem[]>([]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const found: Problem[] = [];
    if (!email.trim()) found.push({ field: 'email', text: 'Enter your email address' });
    if (!password) found.push({ field: 'password', text: 'Enter your password' });
    setProblems(found);
    if (found.length === 0) onSubmit(email.trim(), password, org.trim());
  }

  const fieldError = (id: string) => problems.find((p) => p.field === id)?.text;
  const shown = problems.length > 0 ? problems : serverError ? [{ field: 'password', text: serverError }] : [];

  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={shown} />
      <TextField id="email" label="Email address" type="email" autoComplete="username" spellCheck={false} value={email} onChange={setEmail} error={fieldError('email')} />
      <TextField
        id="password"
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={setPassword}
        error={fieldError('password')}
      />
      {/* Someone who works for two organisations under one address names the one to sign in to.
          Nothing here says whether an address has accounts elsewhere: it is always offered. */}
      <details className="nhsuk-details" open={initialOrg !== '' || undefined}>
        <summary className="nhsuk-details__summary">
          <span className="nhsuk-details__summary-text">I work for more than one organisation</span>
        </summary>
        <div className="nhsuk-details__text">
          <TextField
            id="org"
            label="Organisation (optional)"
            hint="The name of the organisation to sign in to, as your administrator gave it. Leave it empty for the one you joined first."
            autoComplete="organization"
            spellCheck={false}
            value={org}
            onChange={setOrg}
          />
        </div>
      </details>
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
