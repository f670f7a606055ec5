// Setting, changing and removing the PIN that unlocks the screen after Wardline locks itself.
import { type FormEvent, useState } from 'react';
import { isApiError } from '../../api/client';
import { removePin, setPin } from '../../api/security';
import type { Security } from '../../api/types';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';
import { validPin } from '../../state/lock';

export function PinSection({ security, onChanged }: { security: Security; onChanged: (message: string) => Promise<void> }) {
  const [pin, setPinValue] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found: Problem[] = [];
    if (!validPin(pin)) found.push({ field: 'new-pin', text: 'Enter a PIN of 4 to 8 digits' });
    else if (/^(\d)\1+$/.test(pin) || '0123456789'.includes(pin) || '9876543210'.includes(pin)) found.push({ field: 'new-pin', text: 'Choose a PIN that is harder to guess than repeated or consecutive digits' });
    if (!found.length && confirm !== pin) found.push({ field: 'confirm-pin', text: 'The PINs do not match' });
    setProblems(found);
    if (found.length) return;
    setBusy(true);
    try {
      await setPin(pin);
      setPinValue('');
      setConfirm('');
      setEditing(false);
      await onChanged(security.pin ? 'Your PIN has been changed.' : 'Your PIN is set. Wardline now locks this screen when you leave it.');
    } catch (err) {
      setProblems([{ field: 'new-pin', text: isApiError(err, 'invalid') ? 'Enter a PIN of 4 to 8 digits' : 'Sorry, your PIN could not be saved. Try again' }]);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await removePin();
      await onChanged('Your PIN has been removed.');
    } catch {
      setProblems([{ text: 'Sorry, your PIN could not be removed. Try again' }]);
    } finally {
      setBusy(false);
    }
  }

  const err = (id: string) => problems.find((p) => p.field === id)?.text;
  return (
    <section aria-labelledby="pin-heading">
      <h2 className="nhsuk-heading-m" id="pin-heading">
        Screen lock PIN
      </h2>
      <p>
        Wardline locks this screen after {security.lock_idle_seconds} seconds without use. Your PIN unlocks it. After 5 wrong tries you are signed out.
      </p>
      <p>
        <strong>{security.pin ? 'You have a PIN.' : 'You have not set a PIN.'}</strong>
        {!security.pin && security.passkeys === 0 && ' Until you set one (or add a passkey), Wardline cannot lock your screen.'}
      </p>
      {security.pin && !editing ? (
        <div className="app-button-row">
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setEditing(true)}>
            Change PIN
          </button>
          <button type="button" className="nhsuk-button nhsuk-button--secondary" disabled={busy} onClick={() => void remove()}>
            Remove PIN
          </button>
        </div>
      ) : (
        <form onSubmit={submit} noValidate>
          <ErrorSummary problems={problems} />
          <TextField id="new-pin" label={security.pin ? 'New PIN' : 'PIN'} hint="4 to 8 digits" type="password" inputMode="numeric" autoComplete="off" width={10} maxLength={8} value={pin} onChange={setPinValue} error={err('new-pin')} />
          <TextField id="confirm-pin" label="Confirm PIN" type="password" inputMode="numeric" autoComplete="off" width={10} maxLength={8} value={confirm} onChange={setConfirm} error={err('confirm-pin')} />
          <div className="app-button-row">
            <button type="submit" className="nhsuk-button" disabled={busy}>
              {security.pin ? 'Save new PIN' : 'Set PIN'}
            </button>
            {editing && (
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setEditing(false)}>
                Cancel
              </button>
            )}
          </div>
        </form>
      )}
    </section>
  );
}
