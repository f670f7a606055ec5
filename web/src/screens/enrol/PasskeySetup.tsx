// Registering a passkey on this device (or a phone nearby): the browser asks for a fingerprint,
// face or device PIN, and the server keeps the public key.
import { type FormEvent, useState } from 'react';
import { isApiError } from '../../api/client';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../../api/security';
import type { Passkey } from '../../api/types';
import { createPasskey, isBrowserCredentialError, passkeyErrorText } from '../../api/webauthn';
import { ErrorSummary } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

export function PasskeySetup({ onRegistered, submitLabel = 'Create a passkey' }: { onRegistered: (p: Passkey) => void; submitLabel?: string }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim().length > 100) {
      setError('The name must be 100 characters or fewer');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { public_key } = await beginPasskeyRegistration();
      const credential = await createPasskey(public_key);
      onRegistered(await finishPasskeyRegistration(name.trim(), credential));
      setName('');
    } catch (err) {
      setError(
        isBrowserCredentialError(err) ? passkeyErrorText(err)
        : isApiError(err, 'conflict') ? 'This passkey is registered already, or set-up took too long. Try again'
        : isApiError(err, 'forbidden') ? 'Passkeys are not available on this Wardline server'
        : isApiError(err, 'invalid') ? 'The passkey could not be checked. Try again'
        : 'Sorry, the passkey could not be added. Try again later',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={error ? [{ field: 'passkey-name', text: error }] : []} />
      <TextField
        id="passkey-name"
        label="Name for this passkey (optional)"
        hint="So you can tell your passkeys apart, for example: Ward 7 PC, or My phone"
        width={20}
        autoComplete="off"
        value={name}
        onChange={setName}
        error={error ?? undefined}
      />
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Waiting for your device…' : submitLabel}
      </button>
    </form>
  );
}
