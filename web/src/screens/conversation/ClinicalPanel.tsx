// A conversation's clinical side, under its title: the patient banner when it is about a patient,
// its status and category, and (for its owners) linking a patient, the category, resolving and
// reopening, and the escalation contact. Changes go through PATCH /conversations/{id}.
import { useEffect, useState } from 'react';
import { isApiError } from '../../api/client';
import { BUILTIN_CATEGORIES, type ConversationPatch, clinicalOf, getClinicalPolicy, getPatient, updateConversation } from '../../api/clinical';
import type { Conversation } from '../../api/types';
import { PatientBanner } from '../../components/PatientBanner';
import { PatientFinder } from '../../components/PatientFinder';
import { Link } from '../../router';
import { useSession } from '../../state/SessionContext';
import { useClinical } from '../../state/clinical';
import { useRoles } from '../../state/directory';
import { canManageMembers, isOwner } from '../../state/selectors';
import { useChat } from '../../state/store';

export function categoryLabel(c: string): string {
  return c.charAt(0).toUpperCase() + c.slice(1).replace(/[-_]/g, ' ');
}

export function ClinicalPanel({ conversation }: { conversation: Conversation }) {
  const session = useSession();
  const chat = useChat();
  const clinical = useClinical();
  const x = clinicalOf(conversation);
  const patientId = conversation.patient_id;
  const patient = patientId ? clinical.patients[patientId] : undefined;
  const [patientProblem, setPatientProblem] = useState<'hidden' | 'failed' | null>(null);
  const canEdit = isOwner(chat, conversation) || canManageMembers(chat, conversation);

  // Every look at a patient is audited by the server, so the banner asks once per visit.
  useEffect(() => {
    if (!patientId) return;
    let live = true;
    setPatientProblem(null);
    getPatient(patientId).then(
      (p) => live && session.clinical.dispatch({ type: 'patient', patient: p }),
      (e) => live && setPatientProblem(isApiError(e, 'not_found') ? 'hidden' : 'failed'),
    );
    return () => {
      live = false;
    };
  }, [patientId, session]);

  const resolved = x.status === 'resolved';
  return (
    <div className="app-clinical-panel">
      <p className="app-clinical-panel__tags">
        <strong className={`nhsuk-tag app-tag-small ${resolved ? 'nhsuk-tag--grey' : 'nhsuk-tag--blue'}`}>
          <span className="nhsuk-u-visually-hidden">Status: </span>
          {resolved ? 'Resolved' : 'Open'}
        </strong>
        {x.category && (
          <strong className="nhsuk-tag nhsuk-tag--white app-tag-small">
            <span className="nhsuk-u-visually-hidden">Category: </span>
            {categoryLabel(x.category)}
          </strong>
        )}
        {conversation.kind === 'role' && x.role_id && (
          <Link className="app-clinical-panel__role" href={`/roles/${encodeURIComponent(x.role_id)}`}>
            Who holds this role now
          </Link>
        )}
      </p>
      {patientId && patient && <PatientBanner patient={patient} />}
      {patientId && !patient && (
        <p className="app-patient-banner app-patient-banner--unknown">
          {patientProblem === 'hidden'
            ? 'About a patient you cannot see.'
            : patientProblem === 'failed'
              ? 'About a patient whose details could not be loaded. Check your connection.'
              : 'Loading patient…'}
        </p>
      )}
      {patient && (
        <p className="app-clinical-panel__timeline">
          <Link href={`/patients/${encodeURIComponent(patient.id)}`}>Patient timeline</Link>
        </p>
      )}
      {canEdit && <TrackingForm conversation={conversation} />}
    </div>
  );
}

function TrackingForm({ conversation }: { conversation: Conversation }) {
  const session = useSession();
  const x = clinicalOf(conversation);
  const [categories, setCategories] = useState<string[]>([...BUILTIN_CATEGORIES]);
  const [category, setCategory] = useState(x.category ?? '');
  const [contact, setContact] = useState(x.escalation_role_id ?? '');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { roles } = useRoles();
  const takesContact = conversation.kind === 'group' || conversation.kind === 'channel';

  useEffect(() => {
    getClinicalPolicy().then((p) => setCategories([...BUILTIN_CATEGORIES, ...(p.categories ?? [])]), () => undefined);
  }, []);
  useEffect(() => setCategory(x.category ?? ''), [x.category]);
  useEffect(() => setContact(x.escalation_role_id ?? ''), [x.escalation_role_id]);

  async function patch(p: ConversationPatch, what: string) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const c = await updateConversation(conversation.id, p);
      session.store.dispatch({ type: 'conversation', conversation: c });
      setDone(what);
    } catch (e) {
      setError(isApiError(e, 'invalid') || isApiError(e, 'forbidden') ? e.message : 'The change was not saved. Try again');
    } finally {
      setBusy(false);
    }
  }

  const resolved = x.status === 'resolved';
  return (
    <details className="nhsuk-details app-tracking">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Patient, category and status</span>
      </summary>
      <div className="nhsuk-details__text">
        <div aria-live="polite" className="app-tracking__result">
          {done && <p className="app-tracking__done">{done}</p>}
        </div>
        {error && (
          <p className="nhsuk-error-message" role="alert">
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </p>
        )}
        <h2 className="nhsuk-heading-s">Status</h2>
        <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" disabled={busy} onClick={() => patch({ status: resolved ? 'open' : 'resolved' }, resolved ? 'Reopened.' : 'Marked as resolved.')}>
          {resolved ? 'Reopen conversation' : 'Mark as resolved'}
        </button>

        <div className="app-inline-form">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="conv-category">
              Category
            </label>
            <select className="nhsuk-select" id="conv-category" value={category} onChange={(e) => setCategory(e.target.value)}>
              <option value="">None</option>
              {categories.map((c) => (
                <option key={c} value={c}>
                  {categoryLabel(c)}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" disabled={busy} onClick={() => patch({ category: category || null }, category ? `Category set to ${categoryLabel(category)}.` : 'Category removed.')}>
            Save category
          </button>
        </div>

        {takesContact && (
          <>
            <div className="app-inline-form">
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="conv-escalation">
                  Escalation contact: the role unacknowledged urgent messages escalate to
                </label>
                <select className="nhsuk-select" id="conv-escalation" value={contact} onChange={(e) => setContact(e.target.value)}>
                  <option value="">None</option>
                  {(roles ?? []).map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.name}
                    </option>
                  ))}
                </select>
              </div>
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" disabled={busy} onClick={() => patch({ escalation_role_id: contact || null }, contact ? 'Escalation contact saved.' : 'Escalation contact removed.')}>
                Save escalation contact
              </button>
            </div>
          </>
        )}

        <h2 className="nhsuk-heading-s">Patient</h2>
        {conversation.patient_id ? (
          <>
            <p>Everyone in this conversation sees the patient banner. Remove the link if the conversation is not about this patient.</p>
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" disabled={busy} onClick={() => patch({ patient_id: null }, 'Patient unlinked.')}>
              Unlink patient
            </button>
          </>
        ) : (
          <>
            <p>Link the patient this conversation is about. Everyone in it will see the patient banner, and its messages join the patient’s timeline.</p>
            <PatientFinder
              id="link-patient"
              submitLabel={{ find: 'Find and link patient', register: 'Register and link patient' }}
              onFound={async (p) => {
                session.clinical.dispatch({ type: 'patient', patient: p });
                await patch({ patient_id: p.id }, `Linked to ${p.name}.`);
              }}
            />
          </>
        )}
      </div>
    </details>
  );
}
