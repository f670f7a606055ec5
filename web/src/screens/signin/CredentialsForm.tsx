// Email and password: the first step of signing in.
import { type FormEvent, useState } from 'react';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

interface Props {
  initialEmail: string;
  busy: boolean;
  serverError: string | null;
  onSubmit: (email: string, password: string) => void;
}

export function CredentialsForm({ initialEmail, busy, serverError, onSubmit }: Props) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const found: Problem[] = [];
    if (!email.trim()) found.push({ field: 'email', text: 'Enter your email address' });
    if (!password) found.push({ field: 'password', text: 'Enter your password' });
    setProblems(found);
    if (found.length === 0) onSubmit(email.trim(), password);
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
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
