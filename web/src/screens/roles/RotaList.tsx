// A role's rota from now on, soonest first: for staff, who is on call later; for admins, also to
// correct it. An entry taken off before it starts is gone; one under way ends now (the person
// stops holding the role).
import { useCallback, useEffect, useState } from 'react';
import { isApiError } from '../../api/client';
import { type RotaEntry, cancelRotaEntry, listRota } from '../../api/clinical';
import { formatTime } from '../../components/Time';

export function RotaList({
  roleId,
  roleName,
  name,
  version = 0,
  heading: Heading = 'h3',
  onCancelled,
}: {
  roleId: string;
  roleName: string;
  name: (id: string) => string;
  /** Changes when an entry was added elsewhere on the page: the list loads again. */
  version?: number;
  heading?: 'h2' | 'h3';
  /** Admins only: offers "Take off the rota", and is told whom it took off. */
  onCancelled?: (who: string) => void;
}) {
  const [entries, setEntries] = useState<RotaEntry[] | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setEntries(await listRota(roleId));
      setLoadFailed(false);
    } catch {
      setLoadFailed(true);
    }
  }, [roleId]);
  useEffect(() => {
    void load();
  }, [load, version]);

  async function cancel(e: RotaEntry) {
    setError(null);
    try {
      await cancelRotaEntry(roleId, e.id);
      setConfirming(null);
      onCancelled?.(name(e.user_id));
    } catch (err) {
      setConfirming(null);
      setError(isApiError(err, 'conflict') ? 'That rota entry has already ended.' : 'The rota was not changed. Try again');
    }
    await load();
  }

  const headingId = `rota-list-${roleId}`;
  const now = Date.now();
  return (
    <div className="app-rota-list">
      <Heading className={Heading === 'h2' ? 'nhsuk-heading-m' : 'nhsuk-heading-s'} id={headingId}>
        Rota<span className="nhsuk-u-visually-hidden"> for {roleName}</span>
      </Heading>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          <span className="nhsuk-u-visually-hidden">Error:</span> {error}
        </p>
      )}
      {loadFailed && <p className="nhsuk-error-message">The rota could not be loaded. Try again</p>}
      {entries && entries.length === 0 && <p className="app-muted">Nobody is on the rota from now on.</p>}
      {entries && entries.length > 0 && (
        <ul className="nhsuk-list app-rota-list__entries" aria-labelledby={headingId}>
          {entries.map((e) => {
            const who = name(e.user_id);
            const underWay = Date.parse(e.starts_at) <= now;
            return (
              <li key={e.id} className="app-rota-list__entry">
                <RotaPeriod label={who} entry={e} underWay={underWay} />{' '}
                {!onCancelled ? null : confirming === e.id ? (
                  <span className="app-rota-list__confirm">
                    {underWay ? `End ${who}'s period now?` : `Take ${who} off the rota?`}{' '}
                    <button type="button" className="app-link-button" onClick={() => void cancel(e)}>
                      {underWay ? 'Yes, end it now' : 'Yes, take off'}
                    </button>{' '}
                    <button type="button" className="app-link-button" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button type="button" className="app-link-button" onClick={() => setConfirming(e.id)}>
                    Take off the rota<span className="nhsuk-u-visually-hidden"> {who} from {formatTime(e.starts_at)}</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** One rota period as a line: who (or which role), from when to when, and "Now" while under way. */
export function RotaPeriod({ label, entry, underWay }: { label: string; entry: RotaEntry; underWay: boolean }) {
  return (
    <>
      <span className="app-people__name">{label}</span>: {formatTime(entry.starts_at)} to {formatTime(entry.ends_at)}
      {underWay && <strong className="nhsuk-tag nhsuk-tag--green app-tag-small"> Now</strong>}
    </>
  );
}
