// The conversation list, most recently active first, with a title filter.
import { useMemo, useState } from 'react';
import { PageHeading } from '../../components/PageHeading';
import { Link } from '../../router';
import { conversationTitle } from '../../state/selectors';
import { useChat } from '../../state/store';
import { ConversationRow } from './ConversationRow';

export function ConversationListScreen() {
  const chat = useChat();
  const [query, setQuery] = useState('');
  const visible = useMemo(() => {
    const q = query.trim().toLowerCase();
    return chat.order
      .map((id) => chat.conversations[id])
      .filter((c) => c !== undefined)
      .filter((c) => !q || conversationTitle(chat, c).toLowerCase().includes(q));
  }, [chat, query]);
  const total = chat.order.length;

  return (
    <>
      <div className="app-title-row">
        <PageHeading>Conversations</PageHeading>
        <Link className="nhsuk-button app-title-row__action" href="/conversations/new">
          Start a conversation
        </Link>
      </div>
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="conversation-search">
          Search conversations
        </label>
        <input
          className="nhsuk-input nhsuk-input--width-30"
          id="conversation-search"
          type="search"
          autoComplete="off"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <p className="nhsuk-u-visually-hidden" role="status">
        {query ? `${visible.length} of ${total} conversations match` : ''}
      </p>
      {total === 0 ? (
        <p>You are not in any conversations yet. Start one with a colleague from the directory.</p>
      ) : visible.length === 0 ? (
        <p>No conversation title matches “{query}”.</p>
      ) : (
        <ul className="app-conversation-list">
          {visible.map((c) => (
            <ConversationRow key={c.id} chat={chat} conversation={c} />
          ))}
        </ul>
      )}
    </>
  );
}
