// Adding a member of staff; the initial password is shown once, to be passed on in person.
import { type FormEvent, useState } from 'react';
import { createStaff } from '../../api/admin';
import { isApiError } from '../../api/client';
import type { CreatedStaff, NewStaff, OrgRole } from '../../api/types';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

const empty: NewStaff = { email: '', display_name: '', job_title: '', profession: '', registration: '', org_role: 'member' };

export function CreateStaffForm({ onCreated }: { onCreated: (c: CreatedStaff) => void }) {
  const [form, setForm] = useState<NewStaff>(empty);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof NewStaff) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found: Problem[] = [];
    if (!form.display_name.trim()) found.push({ field: 'staff-name', text: 'Enter the person’s full name' });
    if (!/^[^\s@]+@[^\s@]+$/.test(form.email.trim())) found.push({ field: 'staff-email', text: 'Enter an email address in the correct format, like name@nhs.net' });
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      const trimmed = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()])) as unknown as NewStaff;
      onCreated(await createStaff(trimmed));
      setForm(empty);
    } catch (err) {
      const text =
        isApiError(err, 'invalid') || isApiError(err, 'conflict') ? err.message : 'The account could not be created. Try again';
      setProblems([{ text }]);
    } finally {
      setBusy(false);
    }
  }

  const err = (id: string) => problems.find((p) => p.field === id)?.text;
  return (
    <form onSubmit={submit} noValidate>
      <ErrorSummary problems={problems} />
      <TextField id="staff-name" label="Full name" value={form.display_name} onChange={set('display_name')} error={err('staff-name')} autoComplete="off" />
      <TextField id="staff-email" label="Work email address" type="email" spellCheck={false} value={form.email} onChange={set('email')} error={err('staff-email')} autoComplete="off" />
      <TextField id="staff-job" label="Job title" hint="For example, Staff nurse, Ward 7" value={form.job_title} onChange={set('job_title')} />
      <TextField id="staff-profession" label="Profession" hint="For example, Nursing, Medicine, Pharmacy" value={form.profession} onChange={set('profession')} />
      <TextField id="staff-registration" label="Professional registration (optional)" hint="For example, GMC 1234567 or NMC 12A3456B" value={form.registration} onChange={set('registration')} width={20} />
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="staff-role">
          Role in Wardline
        </label>
        <select className="nhsuk-select" id="staff-role" value={form.org_role} onChange={(e) => setForm((f) => ({ ...f, org_role: e.target.value as OrgRole }))}>
          <option value="member">Staff member</option>
          <option value="admin">Administrator</option>
          <option value="auditor">Information governance auditor</option>
        </select>
      </div>
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create account'}
      </button>
    </form>
  );
}
