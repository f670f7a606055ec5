// The alert thresholds (admins and IG officers): counts per person or address in one hour, the
// working hours outside which access raises an alert, kinds turned off, and the cooldown.
import { type FormEvent, useEffect, useState } from 'react';
import { ALERT_KINDS, type AlertPolicy, getAlertPolicy, setAlertPolicy } from '../../api/audit';
import { isApiError } from '../../api/client';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { PageHeading } from '../../components/PageHeading';
import { AdminNav } from '../../components/SubNav';
import { TextField } from '../../components/TextField';
import { alertLabel } from '../../ig/actions';
import { useSession } from '../../state/SessionContext';
import { IgNav } from './IgNav';

const NUMBERS: { key: keyof AlertPolicy; label: string }[] = [
  { key: 'conversations_read_per_hour', label: 'Conversations one person reads in an hour' },
  { key: 'patients_read_per_hour', label: 'Patients one person looks at in an hour' },
  { key: 'export_items_per_hour', label: 'Audit entries one person exports in an hour' },
  { key: 'failed_sign_ins_per_account', label: 'Failed sign-ins to one account in an hour' },
  { key: 'failed_sign_ins_per_address', label: 'Failed sign-ins from one address in an hour' },
  { key: 'cooldown_minutes', label: 'Minutes before the same alert is raised again' },
];

export function AlertPolicyScreen() {
  const { me } = useSession();
  const [policy, setPolicy] = useState<AlertPolicy | null>(null);
  const [numbers, setNumbers] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saved, setSaved] = useState(false);
  const [loadError, setLoadError] = useState(false);

  function take(p: AlertPolicy) {
    setPolicy(p);
    setNumbers(Object.fromEntries(NUMBERS.map((n) => [n.key, String(p[n.key])])));
  }
  useEffect(() => {
    getAlertPolicy().then(take, () => setLoadError(true));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!policy) return;
    setSaved(false);
    const found: Problem[] = [];
    const next = { ...policy };
    for (const n of NUMBERS) {
      const v = (numbers[n.key] ?? '').trim();
      const x = Number(v);
      if (!/^\d+$/.test(v) || x < 1 || x > 1_000_000) found.push({ field: `alert-${n.key}`, text: `${n.label}: enter a whole number from 1 to 1,000,000` });
      else (next as Record<string, unknown>)[n.key] = x;
    }
    if (!/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(next.working_hours)) found.push({ field: 'alert-hours', text: 'Enter working hours as HH:MM-HH:MM, for example 07:00-20:00' });
    setProblems(found);
    if (found.length) return;
    try {
      take(await setAlertPolicy(next));
      setSaved(true);
    } catch (err) {
      setProblems([{ text: isApiError(err, 'invalid') ? err.message : 'The alert policy was not saved. Try again' }]);
    }
  }

  const nav = me.org_role === 'admin' ? <AdminNav /> : <IgNav />;
  if (!policy) {
    return (
      <>
        <PageHeading>Alert policy</PageHeading>
        {nav}
        <p>{loadError ? 'The alert policy could not be loaded. Try again' : 'Loading the alert policy…'}</p>
      </>
    );
  }
  const disabled = policy.disabled ?? [];
  return (
    <>
      <PageHeading>Alert policy</PageHeading>
      {nav}
      <form onSubmit={submit} noValidate>
        <ErrorSummary problems={problems} />
        <div aria-live="polite">{saved && <p className="app-tracking__done">The alert policy is saved.</p>}</div>
        <h2 className="nhsuk-heading-m">Thresholds</h2>
        {NUMBERS.map((n) => (
          <TextField
            key={n.key}
            id={`alert-${n.key}`}
            label={n.label}
            inputMode="numeric"
            width={10}
            value={numbers[n.key] ?? ''}
            onChange={(v) => setNumbers((cur) => ({ ...cur, [n.key]: v }))}
            error={problems.find((p) => p.field === `alert-${n.key}`)?.text}
          />
        ))}
        <h2 className="nhsuk-heading-m">Working hours</h2>
        <div className="app-filters">
          <TextField
            id="alert-hours"
            label="Working hours"
            hint="Access outside them raises an alert, for example 07:00-20:00"
            width={10}
            value={policy.working_hours}
            onChange={(v) => setPolicy({ ...policy, working_hours: v })}
            error={problems.find((p) => p.field === 'alert-hours')?.text}
          />
          <TextField id="alert-tz" label="Time zone" width={20} value={policy.time_zone} onChange={(v) => setPolicy({ ...policy, time_zone: v })} />
        </div>
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Alerts raised</legend>
          <div className="nhsuk-checkboxes">
            {ALERT_KINDS.map((k) => (
              <div className="nhsuk-checkboxes__item" key={k}>
                <input
                  className="nhsuk-checkboxes__input"
                  id={`alert-kind-${k}`}
                  type="checkbox"
                  checked={!disabled.includes(k)}
                  onChange={(e) => setPolicy({ ...policy, disabled: e.target.checked ? disabled.filter((x) => x !== k) : [...disabled, k] })}
                />
                <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`alert-kind-${k}`}>
                  {alertLabel(k)}
                </label>
              </div>
            ))}
          </div>
        </fieldset>
        <button className="nhsuk-button" type="submit">
          Save alert policy
        </button>
      </form>
    </>
  );
}
