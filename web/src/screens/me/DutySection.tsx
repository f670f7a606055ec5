// My duty status: on duty, off duty or on leave, until when, and who covers meanwhile. Off duty,
// routine messages reach me silently and urgent ones go to the covering role.
import { type FormEvent, useState } from 'react';
import { getMe } from '../../api/auth';
import { isApiError } from '../../api/client';
import { type DutyStatus, type DutyUser, setDutyStatus } from '../../api/clinical';
import { DUTY_LABELS, dutyFromUser, useDuty } from '../../components/DutyBadge';
import { formatTime } from '../../components/Time';
import { isoToLocalInput, localInputToIso } from '../../clinical/dates';
import { useSession } from '../../state/SessionContext';
import { useRoles } from '../../state/directory';

const HINTS: Record<DutyStatus, string> = {
  on_duty: 'Messages alert you as usual',
  off_duty: 'Routine messages reach you silently; urgent ones go to the covering role',
  on_leave: 'As off duty, for longer absences',
};

export function DutySection() {
  const session = useSession();
  const duty = useDuty();
  const { roles, roleName } = useRoles();
  const [status, setStatus] = useState<DutyStatus>(duty?.status ?? 'on_duty');
  const [until, setUntil] = useState(duty?.until ? isoToLocalInput(duty.until) : '');
  const [cover, setCover] = useState(duty?.coveringRoleId ?? '');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const untilIso = until ? localInputToIso(until) : null;
    if (until && (!untilIso || Date.parse(untilIso) <= Date.now())) return setError('The end of this status must be a date and time in the future');
    setError(null);
    setBusy(true);
    try {
      await setDutyStatus({ status, until: status === 'on_duty' ? null : untilIso, covering_role_id: status === 'on_duty' ? null : cover || null });
      // The server decides what applies now (a status that has ended gives way to working hours).
      const me = (await getMe()) as DutyUser;
      const now = dutyFromUser(me) ?? { status, until: untilIso, coveringRoleId: cover || null };
      session.clinical.dispatch({ type: 'duty', duty: now });
      setSaved(true);
    } catch (err) {
      setError(isApiError(err, 'invalid') ? err.message : 'Your status was not saved. Try again');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section id="duty" aria-labelledby="duty-heading">
      <h2 className="nhsuk-heading-m" id="duty-heading">
        Duty status
      </h2>
      {duty && (
        <p>
          You are <strong>{DUTY_LABELS[duty.status].toLowerCase()}</strong>
          {duty.until ? ` until ${formatTime(duty.until)}` : ''}
          {duty.status !== 'on_duty' && duty.coveringRoleId ? `; ${roleName(duty.coveringRoleId)} covers for you` : ''}.
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <div aria-live="polite">{saved && <p className="app-tracking__done">Your status is saved.</p>}</div>
        {error && (
          <p className="nhsuk-error-message" role="alert">
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </p>
        )}
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Your status</legend>
          <div className="nhsuk-radios">
            {(Object.keys(DUTY_LABELS) as DutyStatus[]).map((s) => (
              <div className="nhsuk-radios__item" key={s}>
                <input className="nhsuk-radios__input" id={`duty-${s}`} name="duty" type="radio" checked={status === s} onChange={() => setStatus(s)} aria-describedby={`duty-${s}-hint`} />
                <label className="nhsuk-label nhsuk-radios__label" htmlFor={`duty-${s}`}>
                  {DUTY_LABELS[s]}
                </label>
                <div className="nhsuk-hint nhsuk-radios__hint" id={`duty-${s}-hint`}>
                  {HINTS[s]}
                </div>
              </div>
            ))}
          </div>
        </fieldset>
        {status !== 'on_duty' && (
          <>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="duty-until">
                Until (optional)
              </label>
              <div className="nhsuk-hint" id="duty-until-hint">
                Leave empty to stay {DUTY_LABELS[status].toLowerCase()} until you change it
              </div>
              <input className="nhsuk-input nhsuk-input--width-20" id="duty-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} aria-describedby="duty-until-hint" />
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="duty-cover">
                Who covers for you
              </label>
              <select className="nhsuk-select" id="duty-cover" value={cover} onChange={(e) => setCover(e.target.value)}>
                <option value="">The organisation’s default</option>
                {(roles ?? []).map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            </div>
          </>
        )}
        <button className="nhsuk-button" type="submit" disabled={busy}>
          Save status
        </button>
      </form>
    </section>
  );
}
