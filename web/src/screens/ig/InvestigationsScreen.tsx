// Investigations (IG officers): open a case on a conversation with a written justification, list
// the organisation's cases, export a transcript as JSON or PDF (the officer who opened the case,
// while it is open), see who exported what, and close a case.
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { type Investigation, type InvestigationDetail, closeInvestigation, downloadTranscript, getInvestigation, listInvestigations, openInvestigation } from '../../api/audit';
import { isApiError } from '../../api/client';
import { checkNhsNumber } from '../../clinical/nhsNumber';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { PageHeading } from '../../components/PageHeading';
import { TextField } from '../../components/TextField';
import { Time } from '../../components/Time';
import { saveFile } from '../../components/saveFile';
import type { Params } from '../../router';
import { useSession } from '../../state/SessionContext';
import { usePersonName } from '../../state/directory';
import { IgNav } from './IgNav';

const MIN_JUSTIFICATION = 20;

/** Whether a text holds something that reads as a valid NHS number (the server refuses those). */
export function holdsNhsNumber(text: string): boolean {
  for (const m of text.matchAll(/\d[\d ]{8,14}\d/g)) {
    const digits = m[0].replace(/ /g, '');
    for (let i = 0; i + 10 <= digits.length; i++) if (checkNhsNumber(digits.slice(i, i + 10)).ok) return true;
  }
  return false;
}

export function InvestigationsScreen({ params }: { params: Params }) {
  const [cases, setCases] = useState<Investigation[] | null>(null);
  const [loadError, setLoadError] = useState(false);
  const [opened, setOpened] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setCases(await listInvestigations());
      setLoadError(false);
    } catch {
      setLoadError(true);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <>
      <PageHeading>Investigations</PageHeading>
      <IgNav />
      <OpenCaseForm
        conversationId={params.conversation ?? ''}
        onOpened={async (inv) => {
          setOpened(inv.id);
          await reload();
        }}
      />
      <h2 className="nhsuk-heading-m">Cases</h2>
      {loadError && (
        <p className="nhsuk-error-message" role="alert">
          The investigations could not be loaded. Try again
        </p>
      )}
      {cases && cases.length === 0 && <p>No investigations have been opened.</p>}
      {cases && cases.length > 0 && (
        <ul className="app-cases">
          {cases.map((c) => (
            <CaseItem key={c.id} inv={c} highlight={c.id === opened} onChanged={reload} />
          ))}
        </ul>
      )}
    </>
  );
}

function OpenCaseForm({ conversationId, onOpened }: { conversationId: string; onOpened: (inv: Investigation) => Promise<void> }) {
  const [conversation, setConversation] = useState(conversationId);
  const [justification, setJustification] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const found: Problem[] = [];
    const text = justification.trim();
    if (!conversation.trim()) found.push({ field: 'case-conversation', text: 'Enter the ID of the conversation to investigate' });
    if ([...text].length < MIN_JUSTIFICATION) found.push({ field: 'case-justification', text: `Explain why you need the full record, in at least ${MIN_JUSTIFICATION} characters` });
    else if ([...text].length > 2000) found.push({ field: 'case-justification', text: 'The justification can be at most 2,000 characters' });
    else if (holdsNhsNumber(text)) found.push({ field: 'case-justification', text: 'Do not put an NHS number in the justification: the log records it for other officers to read' });
    setProblems(found);
    if (found.length) return;
    setBusy(true);
    try {
      const inv = await openInvestigation(conversation.trim(), text);
      setJustification('');
      setConversation('');
      setDone('The investigation is open. Export its transcript from the list of cases.');
      await onOpened(inv);
    } catch (err) {
      setProblems([
        {
          text: isApiError(err, 'not_found')
            ? 'No conversation of your organisation has this ID'
            : isApiError(err, 'invalid')
              ? `The case was refused: ${err.message}`
              : 'The investigation could not be opened. Try again',
        },
      ]);
    } finally {
      setBusy(false);
    }
  }

  const err = (f: string) => problems.find((p) => p.field === f)?.text;
  return (
    <form onSubmit={submit} noValidate autoComplete="off" className="app-case-form">
      <h2 className="nhsuk-heading-m">Open an investigation</h2>
      <p>An investigation gives you the full record of one conversation. Opening it, and every export, is recorded in the audit log with your justification, for the other officers to see.</p>
      <ErrorSummary problems={problems} />
      <div aria-live="polite">{done && <p className="app-tracking__done">{done}</p>}</div>
      <TextField id="case-conversation" label="Conversation ID" spellCheck={false} width={30} value={conversation} onChange={setConversation} error={err('case-conversation')} />
      <div className={`nhsuk-form-group${err('case-justification') ? ' nhsuk-form-group--error' : ''}`}>
        <label className="nhsuk-label" htmlFor="case-justification">
          Justification
        </label>
        <div className="nhsuk-hint" id="case-justification-hint">
          Why you need the full record: quote the complaint, incident or case reference. No NHS numbers.
        </div>
        {err('case-justification') && (
          <span className="nhsuk-error-message" id="case-justification-error">
            <span className="nhsuk-u-visually-hidden">Error:</span> {err('case-justification')}
          </span>
        )}
        <textarea
          className={`nhsuk-textarea${err('case-justification') ? ' nhsuk-textarea--error' : ''}`}
          id="case-justification"
          rows={4}
          value={justification}
          onChange={(e) => setJustification(e.target.value)}
          aria-describedby={`case-justification-hint${err('case-justification') ? ' case-justification-error' : ''}`}
        />
      </div>
      <button className="nhsuk-button" type="submit" disabled={busy}>
        Open investigation
      </button>
    </form>
  );
}

function CaseItem({ inv, highlight, onChanged }: { inv: Investigation; highlight: boolean; onChanged: () => Promise<void> }) {
  const { me } = useSession();
  const name = usePersonName();
  const [detail, setDetail] = useState<InvestigationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmClose, setConfirmClose] = useState(false);
  const mine = inv.opened_by === me.id;
  const open = inv.status === 'open';

  async function transcript(format: 'json' | 'pdf') {
    setError(null);
    try {
      saveFile(await downloadTranscript(inv.id, format));
      if (detail) setDetail(await getInvestigation(inv.id));
    } catch (e) {
      setError(isApiError(e, 'conflict') ? 'The case is closed: no transcript can be exported' : isApiError(e, 'forbidden') ? 'Only the officer who opened the case can export its transcript' : 'The transcript could not be exported. Try again');
    }
  }

  async function close() {
    setError(null);
    try {
      await closeInvestigation(inv.id);
      setConfirmClose(false);
      await onChanged();
    } catch {
      setError('The case could not be closed. Try again');
    }
  }

  return (
    <li className={`app-case${highlight ? ' app-case--new' : ''}`} aria-labelledby={`case-${inv.id}`}>
      <h3 className="nhsuk-heading-s app-case__title" id={`case-${inv.id}`}>
        Conversation <span className="app-hash">{inv.conversation_id}</span>{' '}
        <strong className={`nhsuk-tag app-tag-small ${open ? 'nhsuk-tag--blue' : 'nhsuk-tag--grey'}`}>{open ? 'Open' : 'Closed'}</strong>
      </h3>
      <p className="app-muted">
        Opened by {name(inv.opened_by)}, <Time iso={inv.opened_at} />
        {inv.closed_at && (
          <>
            ; closed <Time iso={inv.closed_at} />
          </>
        )}
      </p>
      <p className="app-case__why">{inv.justification}</p>
      {error && (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      )}
      <div className="app-button-row">
        {open && mine && (
          <>
            <button type="button" className="nhsuk-button nhsuk-button--small" onClick={() => void transcript('json')}>
              Export transcript (JSON)
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void transcript('pdf')}>
              Export transcript (PDF)
            </button>
          </>
        )}
        <button type="button" className="app-link-button" onClick={() => void getInvestigation(inv.id).then(setDetail, () => setError('The case could not be loaded. Try again'))}>
          Who exported it<span className="nhsuk-u-visually-hidden"> (case on conversation {inv.conversation_id})</span>
        </button>
        {open && !confirmClose && (
          <button type="button" className="app-link-button" onClick={() => setConfirmClose(true)}>
            Close case
          </button>
        )}
      </div>
      {confirmClose && (
        <div className="app-confirm" role="group" aria-label="Confirm closing the case">
          <p>Close this case? No transcript can be exported under it afterwards.</p>
          <div className="app-button-row">
            <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small" onClick={() => void close()}>
              Close case
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirmClose(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {detail && (
        <div className="app-case__exports" aria-live="polite">
          {detail.exports.length === 0 ? (
            <p>No transcript has been exported under this case.</p>
          ) : (
            <ul className="nhsuk-list">
              {detail.exports.map((x) => (
                <li key={x.seq}>
                  {name(x.actor_id)} exported {String(x.detail?.format ?? 'a transcript')} at <Time iso={x.at} />
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </li>
  );
}
