// Searching the organisation's directory for a person to add (to a new conversation or a group).
import { useEffect, useState } from 'react';
import { isApiError } from '../api/client';
import { searchDirectory } from '../api/directory';
import type { DirectoryPerson } from '../api/types';

interface Props {
  id: string;
  label: string;
  actionLabel: string;
  exclude: readonly string[];
  onPick: (person: DirectoryPerson) => void;
  /** Called with every result page, so names become known to the app. */
  onResults?: (people: DirectoryPerson[]) => void;
}

const DEBOUNCE_MS = 250;

export function PersonSearch({ id, label, actionLabel, exclude, onPick, onResults }: Props) {
  const [q, setQ] = useState('');
  const [results, setResults] = useState<DirectoryPerson[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const term = q.trim();
    if (term.length < 2) {
      setResults(null);
      return;
    }
    const ctl = { cancelled: false };
    const t = setTimeout(() => {
      searchDirectory(term).then(
        (page) => {
          if (ctl.cancelled) return;
          const people = page.items.filter((x): x is DirectoryPerson => x.kind === 'user');
          onResults?.(people);
          setResults(people);
          setError(null);
        },
        (e) => !ctl.cancelled && setError(isApiError(e, 'network') ? e.message : 'The directory could not be searched. Try again'),
      );
    }, DEBOUNCE_MS);
    return () => {
      ctl.cancelled = true;
      clearTimeout(t);
    };
  }, [q, onResults]);

  const shown = results?.filter((p) => !exclude.includes(p.id)) ?? null;
  return (
    <div className="app-person-search">
      <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
        <label className="nhsuk-label" htmlFor={id}>
          {label}
        </label>
        <div className="nhsuk-hint" id={`${id}-hint`}>
          Type at least 2 letters of a name, job title or profession
        </div>
        {error && (
          <span className="nhsuk-error-message" id={`${id}-error`}>
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </span>
        )}
        <input
          className="nhsuk-input nhsuk-input--width-30"
          id={id}
          type="search"
          autoComplete="off"
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <div role="status" className="nhsuk-u-visually-hidden">
        {shown ? `${shown.length} ${shown.length === 1 ? 'person' : 'people'} found` : ''}
      </div>
      {shown && shown.length === 0 && <p>No one in the directory matches “{q.trim()}”.</p>}
      {shown && shown.length > 0 && (
        <ul className="app-people">
          {shown.map((p) => (
            <li key={p.id} className="app-people__item">
              <span>
                <span className="app-people__name">{p.display_name}</span>
                {(p.job_title || p.profession) && <span className="app-people__role"> {[p.job_title, p.profession].filter(Boolean).join(', ')}</span>}
              </span>
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small app-people__action" onClick={() => onPick(p)}>
                {actionLabel}
                <span className="nhsuk-u-visually-hidden"> {p.display_name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
