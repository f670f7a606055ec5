// Defining or changing a role: its name, the fallback role that gets its messages when nobody
// holds it, and its escalation chain (in order: where unacknowledged urgent messages go next).
import { type FormEvent, useState } from 'react';
import { isApiError } from '../../api/client';
import type { NewRole, Role } from '../../api/clinical';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { TextField } from '../../components/TextField';

interface Props {
  id: string;
  roles: Role[];
  initial?: Role;
  submitLabel: string;
  onSubmit: (r: NewRole) => Promise<void>;
}

export function RoleForm({ id, roles, initial, submitLabel, onSubmit }: Props) {
  const [name, setName] = useState(initial?.name ?? '');
  const [fallback, setFallback] = useState(initial?.fallback_role_id ?? '');
  const [chain, setChain] = useState<string[]>(initial?.escalation_role_ids ?? []);
  const [adding, setAdding] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const others = roles.filter((r) => r.id !== initial?.id);
  const nameOf = (rid: string) => roles.find((r) => r.id === rid)?.name ?? 'A removed role';

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return setProblems([{ field: `${id}-name`, text: 'Enter a name for the role' }]);
    setProblems([]);
    setBusy(true);
    try {
      await onSubmit({ name: name.trim(), fallback_role_id: fallback || null, escalation_role_ids: chain });
      if (!initial) {
        setName('');
        setFallback('');
        setChain([]);
      }
    } catch (err) {
      setProblems([
        {
          text: isApiError(err, 'conflict')
            ? 'The organisation already has a role with this name'
            : isApiError(err, 'invalid')
              ? err.message
              : 'The role was not saved. Try again',
        },
      ]);
    } finally {
      setBusy(false);
    }
  }

  function move(i: number, by: -1 | 1) {
    setChain((c) => {
      const next = [...c];
      const [x] = next.splice(i, 1);
      next.splice(i + by, 0, x!);
      return next;
    });
  }

  return (
    <form onSubmit={submit} noValidate className="app-role-form">
      <ErrorSummary problems={problems} />
      <TextField id={`${id}-name`} label="Role name" hint="For example, On-call medical registrar" width={30} value={name} onChange={setName} error={problems.find((p) => p.field === `${id}-name`)?.text} />
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor={`${id}-fallback`}>
          Fallback role
        </label>
        <div className="nhsuk-hint" id={`${id}-fallback-hint`}>
          Gets this role’s messages while nobody holds it
        </div>
        <select className="nhsuk-select" id={`${id}-fallback`} value={fallback} onChange={(e) => setFallback(e.target.value)} aria-describedby={`${id}-fallback-hint`}>
          <option value="">None</option>
          {others.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </div>
      <fieldset className="nhsuk-fieldset">
        <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Escalation chain</legend>
        <div className="nhsuk-hint">Unacknowledged urgent messages to this role go to these roles, one per step, in this order</div>
        {chain.length === 0 ? (
          <p className="app-muted">No escalation roles.</p>
        ) : (
          <ol className="app-chain">
            {chain.map((rid, i) => (
              <li key={rid} className="app-chain__item">
                <span>{nameOf(rid)}</span>
                <span className="app-button-row">
                  {i > 0 && (
                    <button type="button" className="app-link-button" onClick={() => move(i, -1)}>
                      Move up<span className="nhsuk-u-visually-hidden"> {nameOf(rid)}</span>
                    </button>
                  )}
                  {i < chain.length - 1 && (
                    <button type="button" className="app-link-button" onClick={() => move(i, 1)}>
                      Move down<span className="nhsuk-u-visually-hidden"> {nameOf(rid)}</span>
                    </button>
                  )}
                  <button type="button" className="app-link-button" onClick={() => setChain((c) => c.filter((x) => x !== rid))}>
                    Remove<span className="nhsuk-u-visually-hidden"> {nameOf(rid)} from the chain</span>
                  </button>
                </span>
              </li>
            ))}
          </ol>
        )}
        <div className="app-inline-form">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor={`${id}-chain-add`}>
              Add a role to the chain
            </label>
            <select className="nhsuk-select" id={`${id}-chain-add`} value={adding} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Choose a role</option>
              {others
                .filter((r) => !chain.includes(r.id))
                .map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
            </select>
          </div>
          <button
            type="button"
            className="nhsuk-button nhsuk-button--secondary nhsuk-button--small"
            onClick={() => {
              if (adding) setChain((c) => [...c, adding]);
              setAdding('');
            }}
          >
            Add to chain
          </button>
        </div>
      </fieldset>
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
