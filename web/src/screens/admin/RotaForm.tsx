// Putting someone on a role's rota: they hold the role from the start to the end (at most 31 days).
import { type FormEvent, useCallback, useState } from 'react';
import { isApiError } from '../../api/client';
import { type RotaEntry, addRotaEntry } from '../../api/clinical';
import type { DirectoryPerson } from '../../api/types';
import { PersonSearch } from '../../components/PersonSearch';
import { isoToLocalInput, localInputToIso } from '../../clinical/dates';
import { useSession } from '../../state/SessionContext';

export function RotaForm({ roleId, roleName, onAdded }: { roleId: string; roleName: string; onAdded: (e: RotaEntry) => void }) {
  const session = useSession();
  const now = new Date();
  const [person, setPerson] = useState<DirectoryPerson | null>(null);
  const [starts, setStarts] = useState(isoToLocalInput(now));
  const [ends, setEnds] = useState(isoToLocalInput(new Date(now.getTime() + 12 * 3600_000)));
  const [error, setError] = useState<string | null>(null);
  const remember = useCallback((p: DirectoryPerson[]) => session.rememberPeople(p), [session]);
  const id = `rota-${roleId}`;

  async function submit(e: FormEvent) {
    e.preventDefault();
    const s = localInputToIso(starts);
    const en = localInputToIso(ends);
    if (!person) return setError('Choose who goes on the rota');
    if (!s || !en) return setError('Enter when the period starts and ends');
    if (Date.parse(en) <= Date.parse(s)) return setError('The period must end after it starts');
    setError(null);
    try {
      const entry = await addRotaEntry(roleId, { user_id: person.id, starts_at: s, ends_at: en });
      setPerson(null);
      onAdded(entry);
    } catch (err) {
      setError(isApiError(err, 'invalid') || isApiError(err, 'conflict') ? err.message : 'The rota entry was not saved. Try again');
    }
  }

  return (
    <form onSubmit={submit} noValidate className="app-rota-form" aria-label={`Rota for ${roleName}`}>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          <span className="nhsuk-u-visually-hidden">Error:</span> {error}
        </p>
      )}
      {person ? (
        <p>
          On the rota: <strong>{person.display_name}</strong>{' '}
          <button type="button" className="app-link-button" onClick={() => setPerson(null)}>
            Change<span className="nhsuk-u-visually-hidden"> person</span>
          </button>
        </p>
      ) : (
        <PersonSearch id={`${id}-person`} label="Who" actionLabel="Choose" exclude={[]} onResults={remember} onPick={setPerson} />
      )}
      <div className="app-filters">
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor={`${id}-starts`}>
            Starts
          </label>
          <input className="nhsuk-input" id={`${id}-starts`} type="datetime-local" value={starts} onChange={(e) => setStarts(e.target.value)} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor={`${id}-ends`}>
            Ends
          </label>
          <input className="nhsuk-input" id={`${id}-ends`} type="datetime-local" value={ends} onChange={(e) => setEnds(e.target.value)} />
        </div>
      </div>
      <button className="nhsuk-button nhsuk-button--secondary" type="submit">
        Add to rota
      </button>
    </form>
  );
}
