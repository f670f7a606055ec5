// Editing the text of one of my messages, in place.
import { type FormEvent, useState } from 'react';
import { MAX_BODY } from './limits';

interface Props {
  id: string;
  initial: string;
  onSave: (body: string) => Promise<void>;
  onCancel: () => void;
}

export function EditMessageForm({ id, initial, onSave, onCancel }: Props) {
  const [body, setBody] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const text = body.trim();
    if (!text) return setError('Enter the message text, or delete the message instead');
    if ([...text].length > MAX_BODY) return setError(`A message can be at most ${MAX_BODY} characters`);
    setBusy(true);
    try {
      await onSave(text);
    } catch {
      setError('The message could not be changed. Try again');
      setBusy(false);
    }
  }

  return (
    <form className="app-edit" onSubmit={submit} noValidate>
      <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
        <label className="nhsuk-label nhsuk-u-visually-hidden" htmlFor={id}>
          Edit message
        </label>
        {error && (
          <span className="nhsuk-error-message" id={`${id}-error`}>
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </span>
        )}
        <textarea className="nhsuk-textarea" id={id} rows={3} value={body} onChange={(e) => setBody(e.target.value)} aria-describedby={error ? `${id}-error` : undefined} autoFocus />
      </div>
      <div className="app-button-row">
        <button className="nhsuk-button nhsuk-button--small" type="submit" disabled={busy}>
          Save
        </button>
        <button className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
