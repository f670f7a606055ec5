// The patient banner: who a conversation or timeline is about. Name, NHS number (3-3-4), date of
// birth with age, and the national data opt-out. Shown only to people the server lets see them.
import type { Patient } from '../api/clinical';
import { ageOn, formatDate } from '../clinical/dates';
import { formatNhsNumber } from '../clinical/nhsNumber';

export function PatientBanner({ patient, headingLevel = 2 }: { patient: Patient; headingLevel?: 2 | 3 }) {
  const age = ageOn(patient.date_of_birth);
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section className="app-patient-banner" aria-label={`Patient: ${patient.name}`}>
      <Heading className="app-patient-banner__name">{patient.name}</Heading>
      <dl className="app-patient-banner__facts">
        <div>
          <dt>NHS number</dt>
          <dd className="app-patient-banner__nhs">{formatNhsNumber(patient.nhs_number)}</dd>
        </div>
        <div>
          <dt>Born</dt>
          <dd>
            {formatDate(patient.date_of_birth)}
            {age !== null && ` (${age} ${age === 1 ? 'year' : 'years'})`}
          </dd>
        </div>
      </dl>
      {patient.opted_out && (
        <strong className="nhsuk-tag nhsuk-tag--orange app-tag-small app-patient-banner__optout">
          National data opt-out<span className="nhsuk-u-visually-hidden">: do not use this patient’s data for research or planning</span>
        </strong>
      )}
    </section>
  );
}
