// Who is in the conversation; owners (and admins for channels) add and remove people.
import { useCallback, useState } from 'react';
import { isApiError } from '../../api/client';
import type { Conversation, DirectoryPerson } from '../../api/types';
import { PersonSearch } from '../../components/PersonSearch';
import { navigate } from '../../router';
import { useSession } from '../../state/SessionContext';
import type { ChatState } from '../../state/chat';
import { canManageMembers, personName } from '../../state/selectors';

export function MembersPanel({ chat, conversation }: { chat: ChatState; conversation: Conversation }) {
  const session = useSession();
  const [error, setError] = useState<string | null>(null);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const manage = canManageMembers(chat, conversation);
  const memberIds = conversation.members.map((m) => m.user_id);
  const remember = useCallback((p: DirectoryPerson[]) => session.rememberPeople(p), [session]);

  async function act(action: () => Promise<void>, failure: string) {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(isApiError(e, 'invalid') ? e.message : failure);
    }
  }

  async function leave() {
    await act(async () => {
      await session.removeMember(conversation.id, session.me.id);
      navigate('/');
    }, 'You could not leave the conversation. Try again');
  }

  return (
    <details className="nhsuk-details app-members">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Members ({conversation.members.length})</span>
      </summary>
      <div className="nhsuk-details__text">
        {error && (
          <p className="nhsuk-error-message" role="alert">
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </p>
        )}
        <ul className="app-people">
          {conversation.members.map((m) => (
            <li key={m.user_id} className="app-people__item">
              <span>
                <span className="app-people__name">{m.user_id === chat.me?.id ? 'You' : personName(chat, m.user_id)}</span>
                {chat.people[m.user_id]?.job_title && <span className="app-people__role"> {chat.people[m.user_id]!.job_title}</span>}
                {m.role === 'owner' && <strong className="nhsuk-tag nhsuk-tag--blue app-tag-small">Owner</strong>}
              </span>
              {manage && m.user_id !== chat.me?.id && (
                <button
                  type="button"
                  className="nhsuk-button nhsuk-button--secondary nhsuk-button--small app-people__action"
                  onClick={() => act(() => session.removeMember(conversation.id, m.user_id), 'That person could not be removed. Try again')}
                >
                  Remove<span className="nhsuk-u-visually-hidden"> {personName(chat, m.user_id)}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
        {manage && (
          <PersonSearch
            id="add-member"
            label="Add someone"
            actionLabel="Add"
            exclude={memberIds}
            onResults={remember}
            onPick={(p) => act(() => session.addMember(conversation.id, p.id), 'That person could not be added. Try again')}
          />
        )}
        {conversation.kind !== 'direct' &&
          memberIds.includes(session.me.id) &&
          (confirmLeave ? (
            <div className="app-confirm" role="group" aria-label="Confirm leaving">
              <p>Leave this conversation? You will no longer see its messages.</p>
              <div className="app-button-row">
                <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small" onClick={leave}>
                  Leave conversation
                </button>
                <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirmLeave(false)}>
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setConfirmLeave(true)}>
              Leave conversation
            </button>
          ))}
      </div>
    </details>
  );
}
