// The roles directory: every clinical role and who holds it now, with taking and releasing.
// Message a role (or hand it over) from its own page.
import { useEffect, useState } from 'react';
import { type Role, releaseRole, takeRole } from '../../api/clinical';
import { PageHeading } from '../../components/PageHeading';
import { Link } from '../../router';
import { useSession } from '../../state/SessionContext';
import { usePersonName, useRoles } from '../../state/directory';
import { HolderList } from './HolderList';
import { MyRota } from './MyRota';

const REFRESH_MS = 60_000;

export function RolesScreen() {
  const { me } = useSession();
  const { roles, error, reload, roleName } = useRoles();
  const name = usePersonName();
  const [actionError, setActionError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  // Holdings change without an event (rotas start and end): look again now and then.
  useEffect(() => {
    const t = setInterval(() => {
      void reload();
      setVersion((v) => v + 1);
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);

  async function act(role: Role, take: boolean) {
    setActionError(null);
    setDone(null);
    try {
      await (take ? takeRole(role.id) : releaseRole(role.id));
      await reload();
      setDone(take ? `You now hold ${role.name}.` : `You no longer hold ${role.name}.`);
    } catch {
      setActionError(`${role.name} could not be ${take ? 'taken' : 'released'}. Try again`);
    }
  }

  return (
    <>
      <PageHeading>Roles</PageHeading>
      <p>Who holds each clinical role now. A message to a role reaches whoever holds it when you send it.</p>
      <MyRota version={version} />
      <div aria-live="polite">{done && <p className="app-tracking__done">{done}</p>}</div>
      {(error || actionError) && (
        <p className="nhsuk-error-message" role="alert">
          {actionError ?? 'The roles could not be loaded. Try again'}
        </p>
      )}
      {roles === null && !error && <p>Loading roles…</p>}
      {roles && roles.length === 0 && <p>Your organisation has not defined any roles yet. An administrator adds them.</p>}
      {roles && roles.length > 0 && (
        <ul className="app-roles">
          {roles.map((r) => {
            const mine = r.holders.some((h) => h.user_id === me.id);
            return (
              <li key={r.id} className="app-role">
                <div className="app-role__main">
                  <h2 className="nhsuk-heading-s app-role__name">
                    <Link href={`/roles/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                  </h2>
                  <HolderList role={r} name={name} />
                  {r.holders.length === 0 && r.fallback_role_id && <p className="app-role__fallback">Messages go to {roleName(r.fallback_role_id)} meanwhile.</p>}
                </div>
                <div className="app-button-row app-role__actions">
                  <Link className="nhsuk-button nhsuk-button--small" href={`/roles/${encodeURIComponent(r.id)}`}>
                    Message<span className="nhsuk-u-visually-hidden"> {r.name}</span>
                  </Link>
                  <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void act(r, !mine)}>
                    {mine ? 'Release' : 'Take'}
                    <span className="nhsuk-u-visually-hidden"> {r.name}</span>
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
