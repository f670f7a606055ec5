// The conversation list, most recently active first, with a title search and clinical filters.
import { useMemo, useState } from 'react';
import { type ListFilters, filterConversations, filtersActive, noFilters } from '../../clinical/filters';
import { PageHeading } from '../../components/PageHeading';
import { Link } from '../../router';
import { useClinical } from '../../state/clinical';
import { useChat } from '../../state/store';
import { ConversationFilters } from './ConversationFilters';
import { ConversationRow } from './ConversationRow';

export function ConversationListScreen() {
  const chat = useChat();
  const clinical = useClinical();
  const [filters, setFilters] = useState<ListFilters>(noFilters);
  const query = filters.query;
  const setQuery = (q: string) => setFilters((f) => ({ ...f, query: q }));
  const visible = useMemo(() => {
    const all = chat.order.map((id) => chat.conversations[id]).filter((c) => c !== undefined);
    return filterConversations(chat, clinical, all, filters);
  }, [chat, clinical, filters]);
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
      <ConversationFilters value={filters} onChange={setFilters} />
      <p className="nhsuk-u-visually-hidden" role="status">
        {filtersActive(filters) ? `${visible.length} of ${total} conversations match` : ''}
      </p>
      {total === 0 ? (
        <p>You are not in any conversations yet. Start one with a colleague from the directory.</p>
      ) : visible.length === 0 ? (
        <p>{query && !filtersActive({ ...filters, query: '' }) ? `No conversation title matches “${query}”.` : 'No conversation matches these filters.'}</p>
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
