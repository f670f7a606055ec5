// Patients: find one by NHS number and date of birth, or register one. Both go to the patient's
// timeline, whose address holds the patient's id only.
import { PageHeading } from '../../components/PageHeading';
import { PatientFinder } from '../../components/PatientFinder';
import { Link, navigate } from '../../router';
import { useSession } from '../../state/SessionContext';
import { useClinical } from '../../state/clinical';
import { useChat } from '../../state/store';

export function PatientsScreen() {
  const session = useSession();
  const chat = useChat();
  const { patients } = useClinical();
  // Conversations I am in that are about a patient I have seen this session.
  const about = chat.order.map((id) => chat.conversations[id]).filter((c) => c?.patient_id && patients[c.patient_id]);
  const seen = [...new Set(about.map((c) => c!.patient_id!))].map((id) => patients[id]!);

  return (
    <>
      <PageHeading>Patients</PageHeading>
      <p>Find a patient to see every message about them in your conversations, or register a patient who is not in Wardline yet.</p>
      <div className="nhsuk-inset-text">
        <span className="nhsuk-u-visually-hidden">Information: </span>
        <p>Every search and every look at a patient is recorded for information governance.</p>
      </div>
      <PatientFinder
        id="patient"
        onFound={(p) => {
          session.clinical.dispatch({ type: 'patient', patient: p });
          navigate(`/patients/${encodeURIComponent(p.id)}`);
        }}
      />
      {seen.length > 0 && (
        <>
          <h2 className="nhsuk-heading-m">Patients in your conversations</h2>
          <ul className="nhsuk-list">
            {seen.map((p) => (
              <li key={p.id}>
                <Link href={`/patients/${encodeURIComponent(p.id)}`}>{p.name}</Link>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
