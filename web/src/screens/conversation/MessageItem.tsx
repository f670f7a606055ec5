// One message: who, when, priority, text (or a deleted placeholder), ticks and the actions on it.
import { useState } from 'react';
import type { Conversation, Message } from '../../api/types';
import { Time } from '../../components/Time';
import type { ChatState } from '../../state/chat';
import { awaitsMyAck, personName, ticksFor } from '../../state/selectors';
import { EditMessageForm } from './EditMessageForm';
import { MessageClinical } from './MessageClinical';
import { MessageStatus } from './MessageStatus';

export interface MessageActions {
  acknowledge: (m: Message) => Promise<void>;
  edit: (m: Message, body: string) => Promise<void>;
  remove: (m: Message) => Promise<void>;
}

const PRIORITY_TAG: Record<string, string> = { urgent: 'nhsuk-tag--orange', emergency: 'nhsuk-tag--red' };

export function MessageItem({ chat, conversation, message: m, actions }: { chat: ChatState; conversation: Conversation; message: Message; actions: MessageActions }) {
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const [error, setError] = useState<string | null>(null);
  const mine = m.sender_id === chat.me?.id;
  const ticks = ticksFor(chat, conversation, m);
  const needsAck = awaitsMyAck(chat, m);
  const iAcked = !mine && m.requires_ack && !!chat.acks[m.id]?.[chat.me?.id ?? ''];

  async function run(action: () => Promise<void>, failure: string) {
    setError(null);
    try {
      await action();
      setMode('view');
    } catch {
      setError(failure);
    }
  }

  const classes = ['app-message', mine ? 'app-message--mine' : '', m.priority !== 'routine' ? `app-message--${m.priority}` : '', m.deleted ? 'app-message--deleted' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <li className={classes} aria-labelledby={`msg-${m.id}-from`}>
      <div className="app-message__head">
        <span className="app-message__sender" id={`msg-${m.id}-from`}>
          {mine ? 'You' : personName(chat, m.sender_id)}
        </span>{' '}
        <Time iso={m.created_at} />
        {m.priority !== 'routine' && !m.deleted && <strong className={`nhsuk-tag app-tag-small ${PRIORITY_TAG[m.priority] ?? ''}`}>{m.priority === 'urgent' ? 'Urgent' : 'Emergency'}</strong>}
      </div>
      {m.deleted ? (
        <p className="app-message__body app-message__body--deleted">This message was deleted</p>
      ) : mode === 'edit' ? (
        <EditMessageForm id={`edit-${m.id}`} initial={m.body} onSave={(body) => run(() => actions.edit(m, body), 'The message could not be changed')} onCancel={() => setMode('view')} />
      ) : (
        <p className="app-message__body">
          {m.body}
          {m.edited_at && <span className="app-message__edited"> (edited)</span>}
        </p>
      )}
      <div className="app-message__foot">
        {ticks && !m.deleted && <MessageStatus ticks={ticks} requiresAck={m.requires_ack} />}
        {needsAck && (
          <button type="button" className="nhsuk-button nhsuk-button--small app-message__ack" onClick={() => run(() => actions.acknowledge(m), 'Your acknowledgement was not saved. Try again')}>
            Acknowledge<span className="nhsuk-u-visually-hidden"> message from {personName(chat, m.sender_id)}</span>
          </button>
        )}
        {iAcked && !m.deleted && <strong className="nhsuk-tag nhsuk-tag--green app-tag-small">You acknowledged</strong>}
        {mine && !m.deleted && mode === 'view' && (
          <span className="app-message__tools">
            <button type="button" className="app-link-button" onClick={() => setMode('edit')}>
              Edit<span className="nhsuk-u-visually-hidden"> your message</span>
            </button>
            <button type="button" className="app-link-button" onClick={() => setMode('confirm-delete')}>
              Delete<span className="nhsuk-u-visually-hidden"> your message</span>
            </button>
          </span>
        )}
      </div>
      <MessageClinical chat={chat} message={m} />
      {mode === 'confirm-delete' && (
        <div className="app-confirm" role="group" aria-label="Confirm deletion">
          <p>Delete this message for everyone? It stays in the organisation’s audit record.</p>
          <div className="app-button-row">
            <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small" onClick={() => run(() => actions.remove(m), 'The message could not be deleted')}>
              Delete message
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setMode('view')}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="nhsuk-error-message" role="alert">
          <span className="nhsuk-u-visually-hidden">Error:</span> {error}
        </p>
      )}
    </li>
  );
}
