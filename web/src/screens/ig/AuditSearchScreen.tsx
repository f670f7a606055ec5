// The IG console's audit search (org_role auditor): by person, conversation, patient (the NHS
// number is typed into the form and sent in a POST body, never put in the URL), action and time,
// newest first, a page at a time; the same search exported as CSV or JSON; and the log's
// verification status. The form lives in this screen's memory only.
import { type FormEvent, useState } from 'react';
import { type AuditEvent, type AuditQuery, exportAudit, searchAudit } from '../../api/audit';
import { isApiError } from '../../api/client';
import { checkNhsNumber } from '../../clinical/nhsNumber';
import { localInputToIso } from '../../clinical/dates';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { PageHeading } from '../../components/PageHeading';
import { TextField } from '../../components/TextField';
import { Time } from '../../components/Time';
import { saveFile } from '../../components/saveFile';
import { AUDIT_ACTIONS, actionLabel } from '../../ig/actions';
import { Link } from '../../router';
import { usePersonName } from '../../state/directory';
import { CheckpointPanel } from './CheckpointPanel';
import { IgNav } from './IgNav';

const PAGE = 25;

interface Form {
  email: string;
  conversation: string;
  nhs: string;
  action: string;
  since: string;
  until: string;
}
const emptyForm: Form = { email: '', conversation: '', nhs: '', action: '', since: '', until: '' };

export function AuditSearchScreen() {
  const name = usePersonName();
  const [form, setForm] = useState<Form>(emptyForm);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [query, setQuery] = useState<AuditQuery | null>(null);
  const [items, setItems] = useState<AuditEvent[] | null>(null);
  // Cursors of the pages shown so far: [undefined (first), cursor of page 2, ...].
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);

  function queryOf(f: Form): AuditQuery | Problem[] {
    const found: Problem[] = [];
    const q: AuditQuery = { actor_email: f.email, conversation_id: f.conversation, action: f.action };
    if (f.nhs.trim()) {
      const n = checkNhsNumber(f.nhs);
      if (n.ok) q.nhs_number = n.digits;
      else found.push({ field: 'audit-nhs', text: n.message });
    }
    const since = f.since ? localInputToIso(f.since) : null;
    const until = f.until ? localInputToIso(f.until) : null;
    if (f.since && !since) found.push({ field: 'audit-since', text: 'Enter the start as a date and time' });
    if (f.until && !until) found.push({ field: 'audit-until', text: 'Enter the end as a date and time' });
    if (since && until && Date.parse(until) <= Date.parse(since)) found.push({ field: 'audit-until', text: 'The end must be after the start' });
    if (since) q.since = since;
    if (until) q.until = until;
    return found.length ? found : q;
  }

  async function load(q: AuditQuery, index: number, cursor: string | undefined) {
    setBusy(true);
    try {
      const page = await searchAudit(q, cursor, PAGE);
      setItems(page.items);
      setNext(page.next_cursor);
      setPageIndex(index);
      setProblems([]);
    } catch (e) {
      setProblems([{ text: isApiError(e, 'invalid') ? `The search was refused: ${e.message}` : 'The audit log could not be searched. Try again' }]);
    } finally {
      setBusy(false);
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const q = queryOf(form);
    if (Array.isArray(q)) return setProblems(q);
    setQuery(q);
    setCursors([undefined]);
    await load(q, 0, undefined);
  }

  async function download(format: 'csv' | 'json') {
    if (!query) return;
    setExportError(null);
    try {
      saveFile(await exportAudit(query, format));
    } catch (e) {
      setExportError(isApiError(e, 'too_large') ? 'More than 50,000 entries match: narrow the search (a shorter time range) and export again' : 'The export failed. Try again');
    }
  }

  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const err = (f: string) => problems.find((p) => p.field === f)?.text;
  const first = pageIndex * PAGE + 1;
  return (
    <>
      <PageHeading>Audit log</PageHeading>
      <IgNav />
      <form onSubmit={submit} noValidate autoComplete="off" className="app-audit-form">
        <ErrorSummary problems={problems} />
        <h2 className="nhsuk-heading-m">Search</h2>
        <p>Every field is optional. Your searches are themselves recorded in the log.</p>
        <div className="app-filters">
          <TextField id="audit-email" label="Person (email address)" type="email" spellCheck={false} width={30} value={form.email} onChange={(v) => set({ email: v })} />
          <TextField id="audit-conversation" label="Conversation ID" spellCheck={false} width={30} value={form.conversation} onChange={(v) => set({ conversation: v })} />
          <TextField
            id="audit-nhs"
            label="Patient’s NHS number"
            hint="Sent in the search itself, never in the page address"
            inputMode="numeric"
            spellCheck={false}
            width={10}
            value={form.nhs}
            onChange={(v) => set({ nhs: v })}
            error={err('audit-nhs')}
          />
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="audit-action">
              Action
            </label>
            <input className="nhsuk-input nhsuk-input--width-20" id="audit-action" list="audit-actions" spellCheck={false} value={form.action} onChange={(e) => set({ action: e.target.value })} />
            <datalist id="audit-actions">
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </div>
          <div className={`nhsuk-form-group${err('audit-since') ? ' nhsuk-form-group--error' : ''}`}>
            <label className="nhsuk-label" htmlFor="audit-since">
              From
            </label>
            {err('audit-since') && <span className="nhsuk-error-message">{err('audit-since')}</span>}
            <input className="nhsuk-input" id="audit-since" type="datetime-local" value={form.since} onChange={(e) => set({ since: e.target.value })} />
          </div>
          <div className={`nhsuk-form-group${err('audit-until') ? ' nhsuk-form-group--error' : ''}`}>
            <label className="nhsuk-label" htmlFor="audit-until">
              To
            </label>
            {err('audit-until') && <span className="nhsuk-error-message">{err('audit-until')}</span>}
            <input className="nhsuk-input" id="audit-until" type="datetime-local" value={form.until} onChange={(e) => set({ until: e.target.value })} />
          </div>
        </div>
        <div className="app-button-row">
          <button className="nhsuk-button" type="submit" disabled={busy}>
            Search the log
          </button>
          <button
            type="button"
            className="nhsuk-button nhsuk-button--secondary"
            onClick={() => {
              setForm(emptyForm);
              setProblems([]);
            }}
          >
            Clear
          </button>
        </div>
      </form>

      <div role="status" className="nhsuk-u-visually-hidden">
        {items ? (items.length === 0 ? 'No entries match' : `Showing entries ${first} to ${first + items.length - 1}`) : ''}
      </div>
      {items && (
        <section aria-labelledby="audit-results-heading">
          <h2 className="nhsuk-heading-m" id="audit-results-heading">
            Results
          </h2>
          {items.length === 0 ? (
            <p>No entries match.</p>
          ) : (
            <>
              <p>
                Entries {first} to {first + items.length - 1}
                {next ? ' (more on the next page)' : ''}, newest first.
              </p>
              <table className="nhsuk-table-responsive app-audit-table">
                <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Audit entries</caption>
                <thead className="nhsuk-table__head">
                  <tr className="nhsuk-table__row">
                    <th scope="col" className="nhsuk-table__header">When</th>
                    <th scope="col" className="nhsuk-table__header">Action</th>
                    <th scope="col" className="nhsuk-table__header">Who</th>
                    <th scope="col" className="nhsuk-table__header">About</th>
                    <th scope="col" className="nhsuk-table__header">Outcome</th>
                  </tr>
                </thead>
                <tbody className="nhsuk-table__body">
                  {items.map((e) => (
                    <tr className="nhsuk-table__row" key={e.seq}>
                      <td className="nhsuk-table__cell">
                        <span className="nhsuk-table-responsive__heading" aria-hidden="true">When </span>
                        <Time iso={e.at} />
                        <span className="app-muted app-audit-seq"> #{e.seq}</span>
                      </td>
                      <td className="nhsuk-table__cell">
                        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Action </span>
                        <span className="app-audit-action" title={e.action}>
                          {actionLabel(e.action)}
                        </span>
                      </td>
                      <td className="nhsuk-table__cell">
                        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Who </span>
                        <span className="app-audit-who">
                          {e.actor_id ? name(e.actor_id) : 'Wardline'}
                          {e.source_addr && <span className="app-muted"> from {e.source_addr}</span>}
                        </span>
                      </td>
                      <td className="nhsuk-table__cell">
                        <span className="nhsuk-table-responsive__heading" aria-hidden="true">About </span>
                        <span className="app-audit-about">
                          {e.target_type && (
                            <span>
                              {e.target_type} <span className="app-hash">{e.target_id}</span>
                            </span>
                          )}
                          {e.conversation_id && (
                            <span>
                              Conversation <span className="app-hash">{e.conversation_id}</span>{' '}
                              <Link href={`/ig/investigations/open/${encodeURIComponent(e.conversation_id)}`}>
                                Investigate<span className="nhsuk-u-visually-hidden"> this conversation</span>
                              </Link>
                            </span>
                          )}
                          {e.justification && <span>Justification: {e.justification}</span>}
                          {e.detail && Object.keys(e.detail).length > 0 && (
                            <details className="app-audit-detail">
                              <summary>Detail</summary>
                              <pre>{JSON.stringify(e.detail, null, 1)}</pre>
                            </details>
                          )}
                        </span>
                      </td>
                      <td className="nhsuk-table__cell">
                        <span className="nhsuk-table-responsive__heading" aria-hidden="true">Outcome </span>
                        <strong className={`nhsuk-tag app-tag-small ${e.outcome === 'success' ? 'nhsuk-tag--green' : e.outcome === 'denied' ? 'nhsuk-tag--red' : 'nhsuk-tag--orange'}`}>{e.outcome}</strong>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <div className="app-button-row app-pager">
            {pageIndex > 0 && (
              <button type="button" className="nhsuk-button nhsuk-button--secondary" disabled={busy} onClick={() => query && void load(query, pageIndex - 1, cursors[pageIndex - 1])}>
                Previous page
              </button>
            )}
            {next && (
              <button
                type="button"
                className="nhsuk-button nhsuk-button--secondary"
                disabled={busy}
                onClick={() => {
                  if (!query) return;
                  setCursors((c) => [...c.slice(0, pageIndex + 1), next]);
                  void load(query, pageIndex + 1, next);
                }}
              >
                Next page
              </button>
            )}
          </div>
          <h3 className="nhsuk-heading-s">Export this search</h3>
          <p>Every matching entry (up to 50,000), oldest first. Large exports raise an alert for the other officers.</p>
          {exportError && (
            <p className="nhsuk-error-message" role="alert">
              {exportError}
            </p>
          )}
          <div className="app-button-row">
            <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void download('csv')}>
              Download CSV
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void download('json')}>
              Download JSON
            </button>
          </div>
        </section>
      )}
      <CheckpointPanel />
    </>
  );
}
