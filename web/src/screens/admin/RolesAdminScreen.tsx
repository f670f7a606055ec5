// Clinical setup, roles and rotas (admins): define roles with their fallback and escalation chain,
// change them, see each role's rota from now on, put people on it and take them off it. Current
// holders (rota ones included) show on each role.
import { useState } from 'react';
import { createRole, updateRole } from '../../api/clinical';
import { PageHeading } from '../../components/PageHeading';
import { AdminNav } from '../../components/SubNav';
import { usePersonName, useRoles } from '../../state/directory';
import { HolderList } from '../roles/HolderList';
import { RotaList } from '../roles/RotaList';
import { RoleForm } from './RoleForm';
import { RotaForm } from './RotaForm';

export function RolesAdminScreen() {
  const { roles, error, reload, roleName } = useRoles();
  const name = usePersonName();
  const [done, setDone] = useState<string | null>(null);
  // Bumped when an entry is added, so that the role's rota list loads again.
  const [rotaVersion, setRotaVersion] = useState<Record<string, number>>({});

  return (
    <>
      <PageHeading>Roles and rotas</PageHeading>
      <AdminNav />
      <div aria-live="polite">{done && <p className="app-tracking__done">{done}</p>}</div>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          The roles could not be loaded. Try again
        </p>
      )}
      <details className="nhsuk-details">
        <summary className="nhsuk-details__summary">
          <span className="nhsuk-details__summary-text">Define a role</span>
        </summary>
        <div className="nhsuk-details__text">
          <RoleForm
            id="new-role"
            roles={roles ?? []}
            submitLabel="Define role"
            onSubmit={async (r) => {
              await createRole(r);
              await reload();
              setDone(`${r.name} defined.`);
            }}
          />
        </div>
      </details>
      {roles && roles.length === 0 && <p>No roles yet.</p>}
      {roles?.map((r) => (
        <section key={r.id} className="app-admin-role" aria-labelledby={`role-${r.id}`}>
          <h2 className="nhsuk-heading-m" id={`role-${r.id}`}>
            {r.name}
          </h2>
          <HolderList role={r} name={name} />
          <p className="app-muted">
            Fallback: {r.fallback_role_id ? roleName(r.fallback_role_id) : 'none'}. Escalation chain:{' '}
            {r.escalation_role_ids.length ? r.escalation_role_ids.map(roleName).join(', then ') : 'none'}.
          </p>
          <details className="nhsuk-details">
            <summary className="nhsuk-details__summary">
              <span className="nhsuk-details__summary-text">
                Change<span className="nhsuk-u-visually-hidden"> {r.name}</span>
              </span>
            </summary>
            <div className="nhsuk-details__text">
              <RoleForm
                id={`edit-${r.id}`}
                roles={roles}
                initial={r}
                submitLabel="Save role"
                onSubmit={async (x) => {
                  await updateRole(r.id, x);
                  await reload();
                  setDone(`${x.name} saved.`);
                }}
              />
            </div>
          </details>
          <RotaList
            roleId={r.id}
            roleName={r.name}
            name={name}
            version={rotaVersion[r.id] ?? 0}
            onCancelled={(who) => {
              void reload();
              setDone(`${who} taken off the rota for ${r.name}.`);
            }}
          />
          <details className="nhsuk-details">
            <summary className="nhsuk-details__summary">
              <span className="nhsuk-details__summary-text">
                Put someone on the rota<span className="nhsuk-u-visually-hidden"> for {r.name}</span>
              </span>
            </summary>
            <div className="nhsuk-details__text">
              <RotaForm
                roleId={r.id}
                roleName={r.name}
                onAdded={() => {
                  void reload();
                  setRotaVersion((v) => ({ ...v, [r.id]: (v[r.id] ?? 0) + 1 }));
                  setDone(`Rota entry added to ${r.name}.`);
                }}
              />
            </div>
          </details>
        </section>
      ))}
    </>
  );
}
