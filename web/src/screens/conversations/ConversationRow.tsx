// One conversation in the list: title, kind, last activity, unread count, urgent marker.
import { clinicalOf } from '../../api/clinical';
import type { Conversation } from '../../api/types';
import { urgentMark } from '../../clinical/filters';
import { Time } from '../../components/Time';
import { Link } from '../../router';
import type { ChatState } from '../../state/chat';
import { useClinical } from '../../state/clinical';
import { conversationTitle, lastActivity } from '../../state/selectors';
import { categoryLabel } from '../conversation/ClinicalPanel';

const KIND_LABELS: Record<string, string> = { direct: 'Direct', group: 'Group', channel: 'Channel', role: 'Role' };

export function ConversationRow({ chat, conversation }: { chat: ChatState; conversation: Conversation }) {
  const title = conversationTitle(chat, conversation);
  const clinical = useClinical();
  const mark = urgentMark(chat, clinical, conversation);
  const urgent = mark?.priority ?? null;
  const x = clinicalOf(conversation);
  const unread = conversation.unread_count;
  return (
    <li className={`app-conversation${unread > 0 ? ' app-conversation--unread' : ''}`}>
      <Link className="app-conversation__link" href={`/conversations/${encodeURIComponent(conversation.id)}`}>
        <span className="app-conversation__title">{title}</span>
        <span className="app-conversation__meta">
          <strong className="nhsuk-tag nhsuk-tag--grey app-tag-small">{KIND_LABELS[conversation.kind] ?? conversation.kind}</strong>
          {urgent && (
            <strong className={`nhsuk-tag app-tag-small ${urgent === 'emergency' ? 'nhsuk-tag--red' : 'nhsuk-tag--orange'}`}>
              {urgent === 'emergency' ? 'Emergency' : 'Urgent'}
              <span className="nhsuk-u-visually-hidden">{mark?.reason === 'awaits-me' ? ': awaiting your acknowledgement' : ': yours, awaiting acknowledgement'}</span>
            </strong>
          )}
          {conversation.patient_id && (
            <strong className="nhsuk-tag nhsuk-tag--aqua-green app-tag-small app-patient-badge">
              Patient<span className="nhsuk-u-visually-hidden"> linked</span>
            </strong>
          )}
          {x.category && <strong className="nhsuk-tag nhsuk-tag--white app-tag-small">{categoryLabel(x.category)}</strong>}
          {x.status === 'resolved' && <strong className="nhsuk-tag nhsuk-tag--grey app-tag-small">Resolved</strong>}
          <span className="app-conversation__time">
            <span className="nhsuk-u-visually-hidden">Last activity </span>
            <Time iso={lastActivity(chat, conversation)} />
          </span>
        </span>
        {unread > 0 && (
          <span className="app-unread">
            {unread}
            <span className="nhsuk-u-visually-hidden"> unread {unread === 1 ? 'message' : 'messages'}</span>
          </span>
        )}
      </Link>
    </li>
  );
}
