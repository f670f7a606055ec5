// One member of staff in the admin list, with suspend / reinstate / offboard.
import { useState } from 'react';
import type { StaffAction } from '../../api/admin';
import type { User } from '../../api/types';
import { StaffSecurityPanel } from './StaffSecurityPanel';

const STATUS_TAG: Record<string, string> = { active: 'nhsuk-tag--green', suspended: 'nhsuk-tag--orange', offboarded: 'nhsuk-tag--grey' };
const STATUS_LABEL: Record<string, string> = { active: 'Active', suspended: 'Suspended', offboarded: 'Offboarded' };

const CONFIRM: Record<StaffAction, string> = {
  suspend: 'Suspending signs them out everywhere at once and stops them signing in until reinstated.',
  reinstate: 'Reinstating lets them sign in again. It does not give back conversations they were removed from.',
  offboard:
    'Offboarding signs them out everywhere, removes them from every conversation and clinical role, and suspends the account. Use it when someone leaves.',
};

interface Props {
  user: User;
  isMe: boolean;
  onAction: (user: User, action: StaffAction) => Promise<void>;
}

export function StaffRow({ user, isMe, onAction }: Props) {
  const [confirming, setConfirming] = useState<StaffAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const available: StaffAction[] =
    isMe ? [] : user.status === 'active' ? ['suspend', 'offboard'] : user.status === 'suspended' ? ['reinstate', 'offboard'] : ['reinstate'];

  async function confirm(action: StaffAction) {
    setBusy(true);
    setError(null);
    try {
      await onAction(user, action);
      setConfirming(null);
    } catch {
      setError(`The account could not be changed. Try again`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
    <tr className="nhsuk-table__row">
      <td className="nhsuk-table__cell">
        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Name </span>
        {/* One block: on a phone the responsive table lays a cell's children out in a row. */}
        <span className="app-staff-table__who">
          <strong>{user.display_name}</strong>
          <span className="app-muted app-staff-table__email">{user.email}</span>
        </span>
      </td>
      <td className="nhsuk-table__cell">
        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Job </span>
        {[user.job_title, user.profession].filter(Boolean).join(', ')}
        {user.org_role !== 'member' && <strong className="nhsuk-tag nhsuk-tag--blue app-tag-small">{user.org_role === 'admin' ? 'Admin' : 'Auditor'}</strong>}
      </td>
      <td className="nhsuk-table__cell">
        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Status </span>
        <strong className={`nhsuk-tag app-tag-small ${STATUS_TAG[user.status] ?? ''}`}>{STATUS_LABEL[user.status] ?? user.status}</strong>
      </td>
      <td className="nhsuk-table__cell">
        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Actions </span>
        {confirming ? (
          <div className="app-confirm" role="group" aria-label={`Confirm: ${confirming} ${user.display_name}`}>
            <p>{CONFIRM[confirming]}</p>
            <div className="app-button-row">
              <button type="button" className={`nhsuk-button nhsuk-button--small${confirming === 'reinstate' ? '' : ' nhsuk-button--warning'}`} disabled={busy} onClick={() => confirm(confirming)}>
                Yes, {confirming} {user.display_name}
              </button>
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirming(null)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <span className="app-button-row">
            {!isMe && user.status !== 'offboarded' && (
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
                {open ? 'Hide sign-in' : 'Sign-in'}
                <span className="nhsuk-u-visually-hidden"> and devices of {user.display_name}</span>
              </button>
            )}
            {available.map((a) => (
              <button key={a} type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirming(a)}>
                {a[0]!.toUpperCase() + a.slice(1)}
                <span className="nhsuk-u-visually-hidden"> {user.display_name}</span>
              </button>
            ))}
          </span>
        )}
        {error && (
          <p className="nhsuk-error-message" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
    {open && (
      <tr className="nhsuk-table__row app-staff-table__detail">
        <td className="nhsuk-table__cell" colSpan={4}>
          <StaffSecurityPanel user={user} />
        </td>
      </tr>
    )}
    </>
  );
}
