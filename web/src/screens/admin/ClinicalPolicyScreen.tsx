// The organisation's clinical policy (admins): escalation timings, the organisation's own
// conversation categories, working hours, off-duty alerting and the default covering role.
import { type FormEvent, useEffect, useState } from 'react';
import { isApiError } from '../../api/client';
import { BUILTIN_CATEGORIES, type ClinicalPolicy, getClinicalPolicy, setClinicalPolicy } from '../../api/clinical';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { PageHeading } from '../../components/PageHeading';
import { AdminNav } from '../../components/SubNav';
import { TextField } from '../../components/TextField';
import { useRoles } from '../../state/directory';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const CATEGORY = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

interface Draft {
  urgent: string;
  emergency: string;
  steps: string;
  categories: string;
  hoursOn: boolean;
  start: string;
  end: string;
  timeZone: string;
  weekdays: number[];
  alertOffDuty: boolean;
  cover: string;
}

function draftOf(p: ClinicalPolicy): Draft {
  return {
    urgent: String(p.escalation.urgent_after_minutes),
    emergency: String(p.escalation.emergency_after_minutes),
    steps: String(p.escalation.steps),
    categories: (p.categories ?? []).join(', '),
    hoursOn: p.working_hours !== null,
    start: p.working_hours?.start ?? '08:00',
    end: p.working_hours?.end ?? '18:00',
    timeZone: p.working_hours?.time_zone ?? 'Europe/London',
    weekdays: p.working_hours?.weekdays ?? [1, 2, 3, 4, 5],
    alertOffDuty: p.alert_off_duty,
    cover: p.covering_role_id ?? '',
  };
}

/** The draft as a policy, or the problems that stop it. Exported for tests. */
export function policyOf(d: Draft): { policy: ClinicalPolicy } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const num = (v: string, field: string, label: string, max: number) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < 1 || n > max) problems.push({ field, text: `${label} must be a whole number from 1 to ${max}` });
    return n;
  };
  const urgent = num(d.urgent, 'policy-urgent', 'Minutes before an urgent message escalates', 1440);
  const emergency = num(d.emergency, 'policy-emergency', 'Minutes before an emergency message escalates', 1440);
  const steps = num(d.steps, 'policy-steps', 'Escalation steps', 10);
  const categories = d.categories
    .split(/[\s,]+/)
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const bad = categories.find((c) => !CATEGORY.test(c) || (BUILTIN_CATEGORIES as readonly string[]).includes(c));
  if (bad) problems.push({ field: 'policy-categories', text: `“${bad}” cannot be a category: use lower-case letters, numbers, - and _, and not a built-in category` });
  if (new Set(categories).size !== categories.length) problems.push({ field: 'policy-categories', text: 'A category is listed twice' });
  if (d.hoursOn && (!HHMM.test(d.start) || !HHMM.test(d.end))) problems.push({ field: 'policy-start', text: 'Enter working hours as HH:MM, for example 08:00' });
  if (problems.length > 0) return { problems };
  return {
    policy: {
      escalation: { urgent_after_minutes: urgent, emergency_after_minutes: emergency, steps },
      categories,
      working_hours: d.hoursOn ? { start: d.start, end: d.end, time_zone: d.timeZone || 'Europe/London', weekdays: d.weekdays } : null,
      alert_off_duty: d.alertOffDuty,
      covering_role_id: d.cover || null,
    },
  };
}

export function ClinicalPolicyScreen() {
  const { roles } = useRoles();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saved, setSaved] = useState(false);
  const [loadError, setLoadError] = useState(false);

  useEffect(() => {
    getClinicalPolicy().then((p) => setDraft(draftOf(p)), () => setLoadError(true));
  }, []);

  if (!draft) {
    return (
      <>
        <PageHeading>Clinical policy</PageHeading>
        <AdminNav />
        <p>{loadError ? 'The policy could not be loaded. Try again' : 'Loading the policy…'}</p>
      </>
    );
  }
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const err = (f: string) => problems.find((p) => p.field === f)?.text;

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = policyOf(draft!);
    if ('problems' in r) return setProblems(r.problems);
    setProblems([]);
    try {
      setDraft(draftOf(await setClinicalPolicy(r.policy)));
      setSaved(true);
    } catch (e2) {
      setProblems([{ text: isApiError(e2, 'invalid') ? e2.message : 'The policy was not saved. Try again' }]);
    }
  }

  return (
    <>
      <PageHeading>Clinical policy</PageHeading>
      <AdminNav />
      <form onSubmit={submit} noValidate>
        <ErrorSummary problems={problems} />
        <div aria-live="polite">{saved && <p className="app-tracking__done">The clinical policy is saved. Other servers use it within 30 seconds.</p>}</div>
        <h2 className="nhsuk-heading-m">Escalation</h2>
        <p>An urgent or emergency message that nobody acknowledges alerts its recipients again and goes to the next role of its escalation chain, one step at a time.</p>
        <div className="app-filters">
          <TextField id="policy-urgent" label="Urgent: minutes per step" inputMode="numeric" width={10} value={draft.urgent} onChange={(v) => set({ urgent: v })} error={err('policy-urgent')} />
          <TextField id="policy-emergency" label="Emergency: minutes per step" inputMode="numeric" width={10} value={draft.emergency} onChange={(v) => set({ emergency: v })} error={err('policy-emergency')} />
          <TextField id="policy-steps" label="Steps before giving up" inputMode="numeric" width={10} value={draft.steps} onChange={(v) => set({ steps: v })} error={err('policy-steps')} />
        </div>

        <h2 className="nhsuk-heading-m">Categories</h2>
        <TextField
          id="policy-categories"
          label="Your organisation’s own categories"
          hint={`Beside ${BUILTIN_CATEGORIES.join(', ')}. Separate them with commas, for example theatres, discharge`}
          value={draft.categories}
          onChange={(v) => set({ categories: v })}
          error={err('policy-categories')}
        />

        <h2 className="nhsuk-heading-m">Working hours</h2>
        <div className="nhsuk-checkboxes">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="policy-hours-on" type="checkbox" checked={draft.hoursOn} onChange={(e) => set({ hoursOn: e.target.checked })} aria-describedby="policy-hours-hint" />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="policy-hours-on">
              People without a status of their own are off duty outside working hours
            </label>
            <div className="nhsuk-hint nhsuk-checkboxes__hint" id="policy-hours-hint">
              Otherwise everyone is on duty unless they say they are not
            </div>
          </div>
        </div>
        {draft.hoursOn && (
          <div className="app-working-hours">
            <div className="app-filters">
              <TextField id="policy-start" label="Start (HH:MM)" width={10} value={draft.start} onChange={(v) => set({ start: v })} error={err('policy-start')} />
              <TextField id="policy-end" label="End (HH:MM)" hint="Before the start for a night" width={10} value={draft.end} onChange={(v) => set({ end: v })} />
              <TextField id="policy-tz" label="Time zone" width={20} value={draft.timeZone} onChange={(v) => set({ timeZone: v })} />
            </div>
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Days</legend>
              <div className="nhsuk-checkboxes nhsuk-checkboxes--small app-weekdays">
                {WEEKDAYS.map((d, i) => (
                  <div className="nhsuk-checkboxes__item" key={d}>
                    <input
                      className="nhsuk-checkboxes__input"
                      id={`policy-day-${i + 1}`}
                      type="checkbox"
                      checked={draft.weekdays.includes(i + 1)}
                      onChange={(e) => set({ weekdays: e.target.checked ? [...draft.weekdays, i + 1].sort() : draft.weekdays.filter((x) => x !== i + 1) })}
                    />
                    <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`policy-day-${i + 1}`}>
                      {d}
                    </label>
                  </div>
                ))}
              </div>
            </fieldset>
          </div>
        )}

        <h2 className="nhsuk-heading-m">Off duty</h2>
        <div className="nhsuk-checkboxes">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="policy-alert-off" type="checkbox" checked={draft.alertOffDuty} onChange={(e) => set({ alertOffDuty: e.target.checked })} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="policy-alert-off">
              Urgent and emergency messages alert people who are off duty too
            </label>
          </div>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="policy-cover">
            Default covering role
          </label>
          <div className="nhsuk-hint" id="policy-cover-hint">
            Covers for anyone off duty who did not name a role
          </div>
          <select className="nhsuk-select" id="policy-cover" value={draft.cover} onChange={(e) => set({ cover: e.target.value })} aria-describedby="policy-cover-hint">
            <option value="">None</option>
            {(roles ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <button className="nhsuk-button" type="submit">
          Save clinical policy
        </button>
      </form>
    </>
  );
}
