// Who holds a role now, and until when.
import type { Role } from '../../api/clinical';
import { formatTime } from '../../components/Time';

export function HolderList({ role, name }: { role: Role; name: (id: string) => string }) {
  if (role.holders.length === 0) {
    return (
      <p className="app-role__holders app-role__holders--nobody">
        <strong className="nhsuk-tag nhsuk-tag--red app-tag-small">Nobody</strong> holds this role now
      </p>
    );
  }
  return (
    <ul className="app-role__holders" aria-label={`Holding ${role.name} now`}>
      {role.holders.map((h) => (
        <li key={h.user_id}>
          <span className="app-people__name">{name(h.user_id)}</span>
          <span className="app-muted">
            {' '}
            since {formatTime(h.since)}
            {h.until ? `, until ${formatTime(h.until)}` : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}
