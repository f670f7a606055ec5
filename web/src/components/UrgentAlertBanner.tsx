// The on-screen alert for an urgent or emergency message from someone else (or one escalated to
// me again): who and where, never the text. Not shown for silent copies, nor over the very
// conversation it is about (the message is on screen there, with its Acknowledge button).
import { Link } from '../router';
import { useClinical, useClinicalStore } from '../state/clinical';
import { conversationTitle, personName } from '../state/selectors';
import { useChat } from '../state/store';

export function UrgentAlertBanner() {
  const chat = useChat();
  const store = useClinicalStore();
  const { alert } = useClinical();
  if (!alert || alert.conversationId === chat.viewing) return null;
  const conv = chat.conversations[alert.conversationId];
  const acked = !!chat.acks[alert.messageId]?.[chat.me?.id ?? ''];
  if (!conv || acked) return null;
  const level = alert.priority === 'emergency' ? 'Emergency' : 'Urgent';
  const from = alert.senderId ? personName(chat, alert.senderId) : 'a colleague';
  return (
    <div className={`app-urgent-alert app-urgent-alert--${alert.priority}`} role="alert" key={alert.id}>
      <p className="app-urgent-alert__text">
        <strong>
          {alert.kind === 'escalated' ? `${level} message still not acknowledged` : `${level} message`}
        </strong>{' '}
        from {from} in {conversationTitle(chat, conv)}
        {alert.kind === 'escalated' && ` (escalation step ${alert.step})`}
      </p>
      <div className="app-button-row">
        <Link className="nhsuk-button nhsuk-button--small app-urgent-alert__open" href={`/conversations/${encodeURIComponent(alert.conversationId)}`} onClick={() => store.dispatch({ type: 'dismissAlert' })}>
          Open conversation
        </Link>
        <button type="button" className="app-link-button" onClick={() => store.dispatch({ type: 'dismissAlert' })}>
          Dismiss<span className="nhsuk-u-visually-hidden"> alert</span>
        </button>
      </div>
    </div>
  );
}
