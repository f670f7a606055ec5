// Finding a patient by NHS number and date of birth, or registering one (with their name). The
// number and date are checked here first (Modulus 11, a real past date), then sent in the body of
// a POST: never in a URL. Nothing typed is kept anywhere but this form's memory.
import { type FormEvent, useState } from 'react';
import { isApiError } from '../api/client';
import { type Patient, lookupPatient, registerPatient } from '../api/clinical';
import { checkDateOfBirth } from '../clinical/dates';
import { checkNhsNumber } from '../clinical/nhsNumber';
import { type DateParts, DateOfBirthField, emptyDate } from './DateOfBirthField';
import { ErrorSummary, type Problem } from './ErrorSummary';
import { TextField } from './TextField';

interface Props {
  /** Prefix of the field ids, so that two finders can share a page. */
  id: string;
  onFound: (p: Patient) => void | Promise<void>;
  submitLabel?: { find: string; register: string };
}

export function PatientFinder({ id, onFound, submitLabel = { find: 'Find patient', register: 'Register patient' } }: Props) {
  const [mode, setMode] = useState<'find' | 'register'>('find');
  const [nhs, setNhs] = useState('');
  const [name, setName] = useState('');
  const [dob, setDob] = useState<DateParts>(emptyDate);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const [notFound, setNotFound] = useState(false);
  const f = (x: string) => `${id}-${x}`;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setNotFound(false);
    const found: Problem[] = [];
    const number = checkNhsNumber(nhs);
    if (!number.ok) found.push({ field: f('nhs'), text: number.message });
    if (mode === 'register' && !name.trim()) found.push({ field: f('name'), text: 'Enter the patient’s full name' });
    const date = checkDateOfBirth(dob.day, dob.month, dob.year);
    if (!date.ok) found.push({ field: f('dob'), text: date.message });
    setProblems(found);
    if (!number.ok || !date.ok || found.length > 0) return;
    setBusy(true);
    try {
      const p =
        mode === 'find'
          ? await lookupPatient({ nhs_number: number.digits, date_of_birth: date.iso })
          : await registerPatient({ nhs_number: number.digits, name: name.trim(), date_of_birth: date.iso });
      await onFound(p);
      setNhs('');
      setName('');
      setDob(emptyDate);
    } catch (err) {
      if (isApiError(err, 'not_found')) setNotFound(true);
      else if (isApiError(err, 'conflict')) setProblems([{ field: f('dob'), text: 'A patient with this NHS number is registered with a different date of birth. Check both' }]);
      else if (isApiError(err, 'invalid')) setProblems([{ text: `The server did not accept these details: ${err.message}` }]);
      else setProblems([{ text: 'The patient could not be found or registered. Try again' }]);
    } finally {
      setBusy(false);
    }
  }

  const err = (field: string) => problems.find((p) => p.field === f(field))?.text;
  return (
    <form onSubmit={submit} noValidate autoComplete="off" className="app-patient-finder">
      <ErrorSummary problems={problems} />
      <fieldset className="nhsuk-fieldset">
        <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">What do you want to do?</legend>
        <div className="nhsuk-radios nhsuk-radios--inline">
          {(
            [
              ['find', 'Find a registered patient'],
              ['register', 'Register a patient'],
            ] as const
          ).map(([value, label]) => (
            <div className="nhsuk-radios__item" key={value}>
              <input className="nhsuk-radios__input" id={f(`mode-${value}`)} name={f('mode')} type="radio" checked={mode === value} onChange={() => setMode(value)} />
              <label className="nhsuk-label nhsuk-radios__label" htmlFor={f(`mode-${value}`)}>
                {label}
              </label>
            </div>
          ))}
        </div>
      </fieldset>
      <TextField
        id={f('nhs')}
        label="NHS number"
        hint="10 numbers, for example 943 476 5919"
        inputMode="numeric"
        autoComplete="off"
        spellCheck={false}
        width={10}
        value={nhs}
        onChange={setNhs}
        error={err('nhs')}
      />
      {mode === 'register' && <TextField id={f('name')} label="Full name" autoComplete="off" spellCheck={false} width={30} value={name} onChange={setName} error={err('name')} />}
      <DateOfBirthField id={f('dob')} value={dob} onChange={setDob} error={err('dob')} />
      {notFound && (
        <div className="nhsuk-inset-text" role="status">
          <span className="nhsuk-u-visually-hidden">Information: </span>
          <p>No patient matches this NHS number and date of birth. Check them, or register the patient.</p>
        </div>
      )}
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {busy ? 'Please wait…' : mode === 'find' ? submitLabel.find : submitLabel.register}
      </button>
    </form>
  );
}
