// Changing one's password: forced after an initial or reset password, or from My account.
import { type FormEvent, useState } from 'react';
import { changePassword } from '../../api/auth';
import { isApiError } from '../../api/client';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

interface Props {
  /** The password just used to sign in, so a forced change does not ask for it twice. */
  knownCurrent?: string;
  submitLabel?: string;
  /** Makes the change; the plain API call unless the caller needs more around it. */
  change?: (current: string, next: string) => Promise<void>;
  onChanged: () => void;
}

export function PasswordChangeForm({ knownCurrent, submitLabel = 'Change password', change = changePassword, onChanged }: Props) {
  const [current, setCurrent] = useState(knownCurrent ?? '');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found: Problem[] = [];
    if (!current) found.push({ field: 'current-password', text: 'Enter your current password' });
    if (!next) found.push({ field: 'new-password', text: 'Enter a new password' });
    else if (next === current) found.push({ field: 'new-password', text: 'Your new password must be different from your current password' });
    if (next && confirm !== next) found.push({ field: 'confirm-password', text: 'The passwords do not match' });
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      await change(current, next);
      onChanged();
    } catch (err) {
      const text =
        isApiError(err, 'invalid') ? err.message
        // The server answers a wrong current password with 403.
        : isApiError(err, 'forbidden') ? 'Your current password is not correct'
        : isApiError(err, 'unauthenticated') ? 'Your session has ended. Sign in again to change your password'
        : isApiError(err, 'network') ? err.message
        : 'Sorry, your password could not be changed. Try again later';
      setProblems([{ field: isApiError(err, 'invalid') ? 'new-password' : 'current-password', text }]);
    } finally {
      setBusy(false);
    }
  }

  const err = (id: string) => problems.find((p) => p.field === id)?.text;
  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={problems} />
      {knownCurrent === undefined && (
        <TextField id="current-password" label="Current password" type="password" autoComplete="current-password" value={current} onChange={setCurrent} error={err('current-password')} />
      )}
      <TextField
        id="new-password"
        label="New password"
        hint="At least 12 characters, and not one you use anywhere else. Three or four random words work well."
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={setNext}
        error={err('new-password')}
      />
      <TextField id="confirm-password" label="Confirm new password" type="password" autoComplete="new-password" value={confirm} onChange={setConfirm} error={err('confirm-password')} />
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Changing…' : submitLabel}
      </button>
    </form>
  );
}
