// My duty status in the header, linking to where it is set (My account).
import type { DutyStatus, DutyUser } from '../api/clinical';
import { Link } from '../router';
import { type DutyInfo, useClinical } from '../state/clinical';
import { useSession } from '../state/SessionContext';

export const DUTY_LABELS: Record<DutyStatus, string> = { on_duty: 'On duty', off_duty: 'Off duty', on_leave: 'On leave' };

export function dutyFromUser(u: DutyUser): DutyInfo | null {
  return u.duty_status ? { status: u.duty_status, until: u.duty_until ?? null, coveringRoleId: u.covering_role_id ?? null } : null;
}

export function useDuty(): DutyInfo | null {
  const session = useSession();
  const { duty } = useClinical();
  return duty ?? dutyFromUser(session.me as DutyUser);
}

export function DutyBadge() {
  const duty = useDuty();
  const { me } = useSession();
  // IG officers take no clinical messages: no duty status to show.
  if (!duty || me.org_role === 'auditor') return null;
  return (
    <Link className={`nhsuk-header__account-link app-duty app-duty--${duty.status}`} href="/me">
      <span className="nhsuk-u-visually-hidden">Your status: </span>
      {DUTY_LABELS[duty.status]}
    </Link>
  );
}
