// Starting a conversation with people from the directory.
import { type FormEvent, useCallback, useState } from 'react';
import { isApiError } from '../../api/client';
import type { ConversationKind, DirectoryPerson } from '../../api/types';
import { ErrorSummary, type Problem } from '../../components/ErrorSummary';
import { PageHeading } from '../../components/PageHeading';
import { PersonSearch } from '../../components/PersonSearch';
import { TextField } from '../../components/TextField';
import { Link, navigate } from '../../router';
import { useSession } from '../../state/SessionContext';

const KINDS: { value: ConversationKind; label: string; hint: string }[] = [
  { value: 'direct', label: 'Direct message', hint: 'A private conversation with one colleague' },
  { value: 'group', label: 'Group', hint: 'A few colleagues, for example a care team' },
  { value: 'channel', label: 'Channel', hint: 'A named space for a ward, team or topic' },
];

export function NewConversationScreen() {
  const session = useSession();
  const [kind, setKind] = useState<ConversationKind>('direct');
  const [title, setTitle] = useState('');
  const [people, setPeople] = useState<DirectoryPerson[]>([]);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const remember = useCallback((p: DirectoryPerson[]) => session.rememberPeople(p), [session]);

  function pick(p: DirectoryPerson) {
    setPeople((cur) => (kind === 'direct' ? [p] : [...cur.filter((x) => x.id !== p.id), p]));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found: Problem[] = [];
    if (people.length === 0) found.push({ field: 'person-search', text: kind === 'direct' ? 'Choose who to message' : 'Add at least one person' });
    if (kind === 'channel' && !title.trim()) found.push({ field: 'title', text: 'Enter a name for the channel' });
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      const c = await session.createConversation(kind, kind === 'direct' ? '' : title.trim(), people.map((p) => p.id));
      navigate(`/conversations/${encodeURIComponent(c.id)}`);
    } catch (err) {
      setProblems([{ text: isApiError(err, 'invalid') ? err.message : 'The conversation could not be started. Try again' }]);
      setBusy(false);
    }
  }

  return (
    <>
      <Link className="nhsuk-back-link" href="/">
        Back to conversations
      </Link>
      <PageHeading>Start a conversation</PageHeading>
      <form onSubmit={submit} noValidate>
        <ErrorSummary problems={problems} />
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Type of conversation</legend>
          <div className="nhsuk-radios">
            {KINDS.map((k) => (
              <div className="nhsuk-radios__item" key={k.value}>
                <input
                  className="nhsuk-radios__input"
                  id={`kind-${k.value}`}
                  name="kind"
                  type="radio"
                  value={k.value}
                  checked={kind === k.value}
                  onChange={() => {
                    setKind(k.value);
                    if (k.value === 'direct') setPeople((cur) => cur.slice(-1));
                  }}
                  aria-describedby={`kind-${k.value}-hint`}
                />
                <label className="nhsuk-label nhsuk-radios__label" htmlFor={`kind-${k.value}`}>
                  {k.label}
                </label>
                <div className="nhsuk-hint nhsuk-radios__hint" id={`kind-${k.value}-hint`}>
                  {k.hint}
                </div>
              </div>
            ))}
          </div>
        </fieldset>
        {kind !== 'direct' && (
          <TextField
            id="title"
            label={kind === 'channel' ? 'Channel name' : 'Group name (optional)'}
            value={title}
            onChange={setTitle}
            error={problems.find((p) => p.field === 'title')?.text}
          />
        )}
        <PersonSearch id="person-search" label={kind === 'direct' ? 'Who do you want to message?' : 'Add people'} actionLabel={kind === 'direct' ? 'Choose' : 'Add'} exclude={[session.me.id, ...people.map((p) => p.id)]} onPick={pick} onResults={remember} />
        {people.length > 0 && (
          <>
            <h2 className="nhsuk-heading-s">{kind === 'direct' ? 'Messaging' : 'People in this conversation'}</h2>
            <ul className="app-people">
              {people.map((p) => (
                <li key={p.id} className="app-people__item">
                  <span className="app-people__name">{p.display_name}</span>
                  <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small app-people__action" onClick={() => setPeople((cur) => cur.filter((x) => x.id !== p.id))}>
                    Remove<span className="nhsuk-u-visually-hidden"> {p.display_name}</span>
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
        <button className="nhsuk-button" type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Start conversation'}
        </button>
      </form>
    </>
  );
}
