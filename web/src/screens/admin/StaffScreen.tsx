// The admin console's staff list: search, filter by status, create, suspend, reinstate, offboard.
import { useCallback, useEffect, useState } from 'react';
import { type StaffAction, actOnStaff, listStaff } from '../../api/admin';
import type { CreatedStaff, User, UserStatus } from '../../api/types';
import { PageHeading } from '../../components/PageHeading';
import { Link } from '../../router';
import { useSession } from '../../state/SessionContext';
import { CreateStaffForm } from './CreateStaffForm';
import { StaffRow } from './StaffRow';

export function StaffScreen() {
  const { me } = useSession();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<UserStatus | ''>('');
  const [users, setUsers] = useState<User[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedStaff | null>(null);

  const load = useCallback(async (cursor?: string) => {
    try {
      const page = await listStaff(q.trim(), status, cursor);
      setUsers((cur) => (cursor && cur ? [...cur, ...page.items] : page.items));
      setNext(page.next_cursor);
      setError(null);
    } catch {
      setError('The staff list could not be loaded. Try again');
    }
  }, [q, status]);

  useEffect(() => {
    const t = setTimeout(() => void load(), 250);
    return () => clearTimeout(t);
  }, [load]);

  async function act(user: User, action: StaffAction) {
    await actOnStaff(user.id, action);
    const nextStatus: UserStatus = action === 'reinstate' ? 'active' : action === 'suspend' ? 'suspended' : 'offboarded';
    setUsers((cur) => cur?.map((u) => (u.id === user.id ? { ...u, status: nextStatus } : u)) ?? null);
  }

  return (
    <>
      <PageHeading>Staff</PageHeading>
      <p>
        <Link href="/admin/policy">Organisation sign-in policy</Link>: second step, passkeys, screen lock and session limits.
      </p>
      {created ? (
        <div className="nhsuk-card nhsuk-card--feature app-created" role="status">
          <div className="nhsuk-card__content nhsuk-card__content--feature">
            <h2 className="nhsuk-card__heading nhsuk-card__heading--feature">Account created</h2>
            <p>
              Give {created.user.display_name} this initial password in person or by phone. It is shown only once, and they must change it when they first sign
              in.
            </p>
            <p className="app-secret-line">
              <code className="app-secret">{created.initial_password}</code>
            </p>
            <button type="button" className="nhsuk-button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      ) : creating ? (
        <section aria-labelledby="create-heading">
          <h2 className="nhsuk-heading-m" id="create-heading">
            Add a member of staff
          </h2>
          <CreateStaffForm
            onCreated={(c) => {
              setCreated(c);
              setCreating(false);
              setUsers((cur) => (cur ? [c.user, ...cur] : [c.user]));
            }}
          />
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setCreating(false)}>
            Cancel
          </button>
        </section>
      ) : (
        <button type="button" className="nhsuk-button" onClick={() => setCreating(true)}>
          Add a member of staff
        </button>
      )}

      <h2 className="nhsuk-heading-m">Find staff</h2>
      <div className="app-filters">
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="staff-search">
            Name or email
          </label>
          <input className="nhsuk-input nhsuk-input--width-20" id="staff-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="staff-status">
            Status
          </label>
          <select className="nhsuk-select" id="staff-status" value={status} onChange={(e) => setStatus(e.target.value as UserStatus | '')}>
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="suspended">Suspended</option>
            <option value="offboarded">Offboarded</option>
          </select>
        </div>
      </div>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      {users && users.length === 0 && <p>No staff match.</p>}
      {users && users.length > 0 && (
        <table className="nhsuk-table-responsive app-staff-table">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Staff accounts</caption>
          <thead className="nhsuk-table__head">
            <tr className="nhsuk-table__row">
              <th scope="col" className="nhsuk-table__header">Name</th>
              <th scope="col" className="nhsuk-table__header">Job</th>
              <th scope="col" className="nhsuk-table__header">Status</th>
              <th scope="col" className="nhsuk-table__header">Actions</th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {users.map((u) => (
              <StaffRow key={u.id} user={u} isMe={u.id === me.id} onAction={act} />
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void load(next)}>
          Show more staff
        </button>
      )}
    </>
  );
}
