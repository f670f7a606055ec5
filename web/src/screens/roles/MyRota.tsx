// The signed-in person's own rota periods in every role, soonest first: when they are on next,
// and as what, without opening each role's rota.
import { useEffect, useState } from 'react';
import { type RotaEntry, listMyRota } from '../../api/clinical';
import { RotaPeriod } from './RotaList';

export function MyRota({ version = 0 }: { /** Changes when the page refreshes: the list loads again. */ version?: number }) {
  const [entries, setEntries] = useState<RotaEntry[] | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    listMyRota().then(
      (e) => {
        if (!live) return;
        setEntries(e);
        setFailed(false);
      },
      () => {
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
    };
  }, [version]);

  const now = Date.now();
  return (
    <section className="app-my-rota" aria-labelledby="my-rota-heading">
      <h2 className="nhsuk-heading-s" id="my-rota-heading">
        Your rota
      </h2>
      {failed && <p className="nhsuk-error-message">Your rota could not be loaded. Try again</p>}
      {entries === null && !failed && <p>Loading your rota…</p>}
      {entries && entries.length === 0 && <p className="app-muted">You are on no rota from now on.</p>}
      {entries && entries.length > 0 && (
        <ul className="nhsuk-list app-rota-list__entries" aria-labelledby="my-rota-heading">
          {entries.map((e) => (
            <li key={e.id} className="app-rota-list__entry">
              <RotaPeriod label={e.role_name} entry={e} underWay={Date.parse(e.starts_at) <= now} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
