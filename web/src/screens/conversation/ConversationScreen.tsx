// One conversation: history and live messages, composing, members.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { isApiError } from '../../api/client';
import type { Message, Priority } from '../../api/types';
import { PageHeading } from '../../components/PageHeading';
import { Link, type Params } from '../../router';
import { useSession } from '../../state/SessionContext';
import type { PendingMessage } from '../../state/chat';
import { conversationTitle } from '../../state/selectors';
import { useChat } from '../../state/store';
import { Composer } from './Composer';
import { MembersPanel } from './MembersPanel';
import type { MessageActions } from './MessageItem';
import { MessageList } from './MessageList';

const KIND_LABELS: Record<string, string> = { direct: 'Direct message', group: 'Group', channel: 'Channel' };

export function ConversationScreen({ params }: { params: Params }) {
  const id = params.id ?? '';
  const session = useSession();
  const chat = useChat();
  const [problem, setProblem] = useState<'not-found' | 'failed' | null>(null);
  const conversation = chat.conversations[id];
  const newest = chat.windows[id]?.seqs.at(-1) ?? 0;
  // Once shown, a conversation that disappears is one I was removed from (or left elsewhere):
  // the store has dropped it and its messages, and the screen says so.
  const shown = useRef(false);
  if (conversation) shown.current = true;

  useEffect(() => {
    session.store.dispatch({ type: 'viewing', conversationId: id });
    session.open(id).catch((e) => setProblem(isApiError(e, 'not_found') ? 'not-found' : 'failed'));
    return () => session.store.dispatch({ type: 'viewing', conversationId: null });
  }, [session, id]);

  // Mark what is on screen read while the page is visible.
  useEffect(() => {
    const mark = () => {
      if (newest > 0 && document.visibilityState === 'visible') session.markRead(id, newest).catch(() => undefined);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [session, id, newest]);

  const actions = useMemo<MessageActions>(
    () => ({
      acknowledge: (m: Message) => session.acknowledge(m),
      edit: (m: Message, body: string) => session.edit(m, body),
      remove: (m: Message) => session.remove(m),
    }),
    [session],
  );
  const send = useCallback((body: string, priority: Priority, ack: boolean) => session.send(id, body, priority, ack), [session, id]);
  const retry = useCallback((p: PendingMessage) => void session.send(id, p.body, p.priority, p.requires_ack, p.client_id).catch(() => undefined), [session, id]);
  const discard = useCallback((p: PendingMessage) => session.discardPending(id, p.client_id), [session, id]);

  if (!conversation && shown.current) {
    return (
      <>
        <PageHeading>You are no longer in this conversation</PageHeading>
        <p>
          You were removed from it, or you left it on another device. <Link href="/">Back to conversations</Link>
        </p>
      </>
    );
  }
  if (problem === 'not-found' || (problem === null && !conversation && chat.windows[id]?.loaded)) {
    return (
      <>
        <PageHeading>Conversation not found</PageHeading>
        <p>
          It may have been removed, or you are no longer a member. <Link href="/">Back to conversations</Link>
        </p>
      </>
    );
  }
  if (!conversation) {
    return (
      <>
        <PageHeading>{problem === 'failed' ? 'Sorry, the conversation could not be loaded' : 'Loading conversation…'}</PageHeading>
        <Link href="/">Back to conversations</Link>
      </>
    );
  }

  const title = conversationTitle(chat, conversation);
  return (
    <div className="app-conversation-screen">
      <Link className="nhsuk-back-link" href="/">
        Conversations
      </Link>
      <div className="app-title-row">
        <PageHeading className="nhsuk-heading-m app-conversation-screen__title" title={title}>
          {title} <span className="nhsuk-caption-m app-conversation-screen__kind">{KIND_LABELS[conversation.kind] ?? conversation.kind}</span>
        </PageHeading>
      </div>
      {problem === 'failed' && (
        <p className="nhsuk-error-message" role="alert">
          Messages could not be loaded. Check your connection; Wardline will catch up when it is back.
        </p>
      )}
      <MembersPanel chat={chat} conversation={conversation} />
      <MessageList chat={chat} conversation={conversation} actions={actions} onLoadOlder={() => session.loadOlder(id)} onRetry={retry} onDiscard={discard} />
      <Composer onSend={send} />
    </div>
  );
}
