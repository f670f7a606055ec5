// Writing a message: text, priority, and whether it must be acknowledged.
import { type FormEvent, type KeyboardEvent, useState } from 'react';
import type { Priority } from '../../api/types';
import { MAX_BODY } from './limits';

interface Props {
  onSend: (body: string, priority: Priority, requiresAck: boolean) => Promise<void>;
}

const PRIORITIES: { value: Priority; label: string }[] = [
  { value: 'routine', label: 'Routine' },
  { value: 'urgent', label: 'Urgent' },
  { value: 'emergency', label: 'Emergency' },
];

export function Composer({ onSend }: Props) {
  const [body, setBody] = useState('');
  const [priority, setPriority] = useState<Priority>('routine');
  const [requiresAck, setRequiresAck] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const length = [...body].length;

  function choosePriority(p: Priority) {
    setPriority(p);
    setRequiresAck(p !== 'routine'); // the server's default, shown so the sender sees what happens
  }

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    const text = body.trim();
    if (!text) return setError('Enter a message');
    if ([...text].length > MAX_BODY) return setError(`A message can be at most ${MAX_BODY} characters`);
    setError(null);
    setBody('');
    choosePriority('routine');
    try {
      await onSend(text, priority, requiresAck);
    } catch {
      // The failed send stays in the list with "Try again".
    }
  }

  function keyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  }

  return (
    <form className="app-composer" onSubmit={submit} noValidate>
      <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
        <label className="nhsuk-label" htmlFor="compose">
          Message
        </label>
        <div className="nhsuk-hint" id="compose-hint">
          Enter sends, Shift and Enter starts a new line. Do not include more patient details than you need.
        </div>
        {error && (
          <span className="nhsuk-error-message" id="compose-error">
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </span>
        )}
        <textarea
          className={`nhsuk-textarea${error ? ' nhsuk-textarea--error' : ''}`}
          id="compose"
          rows={3}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          onKeyDown={keyDown}
          aria-describedby={`compose-hint${error ? ' compose-error' : ''}`}
        />
        {length > MAX_BODY - 500 && (
          <div className="nhsuk-hint" aria-live="polite">
            {length > MAX_BODY ? `${length - MAX_BODY} characters too many` : `${MAX_BODY - length} characters remaining`}
          </div>
        )}
      </div>
      <div className="app-composer__options">
        <fieldset className="nhsuk-fieldset app-composer__priority">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Priority</legend>
          <div className="nhsuk-radios nhsuk-radios--inline nhsuk-radios--small">
            {PRIORITIES.map((p) => (
              <div className="nhsuk-radios__item" key={p.value}>
                <input className="nhsuk-radios__input" id={`priority-${p.value}`} name="priority" type="radio" checked={priority === p.value} onChange={() => choosePriority(p.value)} />
                <label className="nhsuk-label nhsuk-radios__label" htmlFor={`priority-${p.value}`}>
                  {p.label}
                </label>
              </div>
            ))}
          </div>
        </fieldset>
        <div className="nhsuk-checkboxes nhsuk-checkboxes--small app-composer__ack">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="requires-ack" type="checkbox" checked={requiresAck} onChange={(e) => setRequiresAck(e.target.checked)} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="requires-ack">
              Ask for acknowledgement
            </label>
          </div>
        </div>
        <button className={`nhsuk-button app-composer__send${priority === 'emergency' ? ' nhsuk-button--warning' : ''}`} type="submit">
          Send{priority !== 'routine' ? ` ${priority}` : ''}
        </button>
      </div>
    </form>
  );
}
