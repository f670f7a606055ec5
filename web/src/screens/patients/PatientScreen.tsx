// One patient: the banner, the national data opt-out, and the timeline (every message about them
// in my conversations, newest first). The page title stays generic: browsers keep titles in their
// history, and patient details must not end up on disk.
import { useCallback, useEffect, useState } from 'react';
import { isApiError } from '../../api/client';
import { type ClinicalMessage, type Patient, getPatient, patientTimeline, setPatientOptOut } from '../../api/clinical';
import { PageHeading } from '../../components/PageHeading';
import { PatientBanner } from '../../components/PatientBanner';
import { Time } from '../../components/Time';
import { Link, type Params } from '../../router';
import { useSession } from '../../state/SessionContext';
import { useClinical } from '../../state/clinical';
import { usePersonName } from '../../state/directory';
import { conversationTitle } from '../../state/selectors';
import { useChat } from '../../state/store';

export function PatientScreen({ params }: { params: Params }) {
  const id = params.id ?? '';
  const session = useSession();
  const chat = useChat();
  const cached = useClinical().patients[id];
  const name = usePersonName();
  const [patient, setPatient] = useState<Patient | null>(cached ?? null);
  const [problem, setProblem] = useState<'not-found' | 'failed' | null>(null);
  const [items, setItems] = useState<ClinicalMessage[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [timelineError, setTimelineError] = useState(false);
  const [optOutError, setOptOutError] = useState<string | null>(null);

  useEffect(() => {
    if (cached) return; // found or registered a moment ago: that was the audited look
    let live = true;
    getPatient(id).then(
      (p) => {
        if (!live) return;
        setPatient(p);
        session.clinical.dispatch({ type: 'patient', patient: p });
      },
      (e) => live && setProblem(isApiError(e, 'not_found') ? 'not-found' : 'failed'),
    );
    return () => {
      live = false;
    };
  }, [id, session]);

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await patientTimeline(id, cursor);
        setItems((cur) => (cursor && cur ? [...cur, ...page.items] : page.items));
        setNext(page.next_cursor);
        setTimelineError(false);
      } catch (e) {
        if (isApiError(e, 'not_found')) setProblem('not-found');
        else setTimelineError(true);
      }
    },
    [id],
  );
  useEffect(() => {
    void load();
  }, [load]);

  async function toggleOptOut(p: Patient) {
    setOptOutError(null);
    try {
      const updated = await setPatientOptOut(p.id, !p.opted_out);
      setPatient(updated);
      session.clinical.dispatch({ type: 'patient', patient: updated });
    } catch {
      setOptOutError('The opt-out was not saved. Try again');
    }
  }

  if (problem === 'not-found') {
    return (
      <>
        <PageHeading>Patient not found</PageHeading>
        <p>
          You can see a patient for 24 hours after finding or registering them, and while you are in a conversation about them. <Link href="/patients">Find a patient</Link>
        </p>
      </>
    );
  }
  const about = chat.order.map((cid) => chat.conversations[cid]).filter((c) => c && c.patient_id === id);
  return (
    <>
      <Link className="nhsuk-back-link" href="/patients">
        Patients
      </Link>
      <PageHeading>Patient timeline</PageHeading>
      {patient ? <PatientBanner patient={patient} /> : <p>{problem === 'failed' ? 'The patient could not be loaded. Check your connection and try again.' : 'Loading patient…'}</p>}
      {patient && (
        <div className="app-button-row app-optout">
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void toggleOptOut(patient)}>
            {patient.opted_out ? 'Remove national data opt-out' : 'Record national data opt-out'}
          </button>
          {optOutError && (
            <p className="nhsuk-error-message" role="alert">
              {optOutError}
            </p>
          )}
        </div>
      )}
      {about.length > 0 && (
        <>
          <h2 className="nhsuk-heading-m">Your conversations about this patient</h2>
          <ul className="nhsuk-list">
            {about.map((c) => (
              <li key={c!.id}>
                <Link href={`/conversations/${encodeURIComponent(c!.id)}`}>{conversationTitle(chat, c!)}</Link>
              </li>
            ))}
          </ul>
        </>
      )}
      <h2 className="nhsuk-heading-m">Messages, newest first</h2>
      {timelineError && (
        <p className="nhsuk-error-message" role="alert">
          The timeline could not be loaded. Try again
        </p>
      )}
      {items === null && !timelineError && <p>Loading messages…</p>}
      {items && items.length === 0 && <p>No messages about this patient in your conversations yet.</p>}
      {items && items.length > 0 && (
        <ol className="app-timeline">
          {items.map((m) => {
            const conv = chat.conversations[m.conversation_id];
            return (
              <li key={m.id} className={`app-timeline__item${m.priority !== 'routine' ? ` app-timeline__item--${m.priority}` : ''}`}>
                <div className="app-message__head">
                  <span className="app-message__sender">{name(m.sender_id)}</span> <Time iso={m.created_at} />
                  {m.priority !== 'routine' && <strong className={`nhsuk-tag app-tag-small ${m.priority === 'emergency' ? 'nhsuk-tag--red' : 'nhsuk-tag--orange'}`}>{m.priority === 'urgent' ? 'Urgent' : 'Emergency'}</strong>}
                  {' in '}
                  <Link href={`/conversations/${encodeURIComponent(m.conversation_id)}`}>{conv ? conversationTitle(chat, conv) : 'a conversation'}</Link>
                </div>
                <p className={`app-message__body${m.deleted ? ' app-message__body--deleted' : ''}`}>{m.deleted ? 'This message was deleted' : m.body}</p>
              </li>
            );
          })}
        </ol>
      )}
      {next && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void load(next)}>
          Show older messages
        </button>
      )}
    </>
  );
}
