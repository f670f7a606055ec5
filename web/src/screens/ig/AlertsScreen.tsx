// Alerts (IG officers): unusual access raised by the server, newest first; new ones arrive live
// through the `alert` event (and are announced to screen readers as they come).
import { useCallback, useEffect, useState } from 'react';
import { ALERT_KINDS, type Alert, listAlerts } from '../../api/audit';
import { PageHeading } from '../../components/PageHeading';
import { Time } from '../../components/Time';
import { alertLabel } from '../../ig/actions';
import { useClinical } from '../../state/clinical';
import { usePersonName } from '../../state/directory';
import { IgNav } from './IgNav';

export function AlertsScreen() {
  const { igAlerts } = useClinical();
  const name = usePersonName();
  const [kind, setKind] = useState('');
  const [items, setItems] = useState<Alert[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState(false);

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await listAlerts(kind || undefined, cursor);
        setItems((cur) => (cursor && cur ? [...cur, ...page.items] : page.items));
        setNext(page.next_cursor);
        setError(false);
      } catch {
        setError(true);
      }
    },
    [kind],
  );
  useEffect(() => {
    void load();
  }, [load]);

  // Live ones first, then the fetched ones, each once.
  const seen = new Set<string>();
  const shown = [...igAlerts.filter((a) => !kind || a.kind === kind), ...(items ?? [])].filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
  return (
    <>
      <PageHeading>Alerts</PageHeading>
      <IgNav />
      <p>Unusual access raised by Wardline. New alerts appear here as they happen.</p>
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="alert-kind">
          Kind of alert
        </label>
        <select className="nhsuk-select" id="alert-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">All</option>
          {ALERT_KINDS.map((k) => (
            <option key={k} value={k}>
              {alertLabel(k)}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          The alerts could not be loaded. Try again
        </p>
      )}
      {items && shown.length === 0 && <p>No alerts.</p>}
      <ul className="app-alerts" aria-label="Alerts, newest first">
        {shown.map((a) => (
          <li key={a.id} className="app-alert">
            <p className="app-alert__head">
              <strong>{alertLabel(a.kind)}</strong> <Time iso={a.at} />
              {igAlerts.some((x) => x.id === a.id) && <strong className="nhsuk-tag nhsuk-tag--yellow app-tag-small">New</strong>}
            </p>
            <p className="app-alert__message">{a.message}</p>
            <p className="app-muted">
              {a.user_id ? `${name(a.user_id)}, ` : ''}
              {a.count} against a threshold of {a.threshold}
              {a.source_addr ? `, from ${a.source_addr}` : ''}; audit entry #{a.audit_seq}
            </p>
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void load(next)}>
          Show older alerts
        </button>
      )}
    </>
  );
}
