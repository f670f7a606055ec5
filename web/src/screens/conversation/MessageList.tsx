// The scrolling log of a conversation's messages, oldest at the top, with sends in flight below.
import { useLayoutEffect, useRef, useState } from 'react';
import type { Conversation } from '../../api/types';
import { type ChatState, type PendingMessage, emptyWindow } from '../../state/chat';
import { useClinical } from '../../state/clinical';
import { messagesOf } from '../../state/selectors';
import { type MessageActions, MessageItem } from './MessageItem';

interface Props {
  chat: ChatState;
  conversation: Conversation;
  actions: MessageActions;
  onLoadOlder: () => Promise<void>;
  onRetry: (p: PendingMessage) => void;
  onDiscard: (p: PendingMessage) => void;
}

const NEAR_BOTTOM_PX = 80;

export function MessageList({ chat, conversation, actions, onLoadOlder, onRetry, onDiscard }: Props) {
  const window_ = chat.windows[conversation.id] ?? emptyWindow;
  const messages = messagesOf(chat, conversation.id);
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState(false);
  const newest = messages[messages.length - 1]?.seq ?? 0;
  // A send's warnings and escalation arrive after the message itself (the stream's copy first).
  const { warnings, escalations } = useClinical();

  // Follow new messages when the reader is at the bottom; leave them be when they scrolled up.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [newest, window_.pending.length, warnings, escalations]);

  async function older() {
    setLoadingOlder(true);
    setOlderError(false);
    const el = ref.current;
    const fromBottom = el ? el.scrollHeight - el.scrollTop : 0;
    try {
      await onLoadOlder();
      if (el) el.scrollTop = el.scrollHeight - fromBottom; // keep the reader's place
    } catch {
      setOlderError(true);
    } finally {
      setLoadingOlder(false);
    }
  }

  return (
    <div
      className="app-messages"
      ref={ref}
      role="log"
      aria-label="Messages"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
      }}
    >
      {window_.hasMoreBefore && (
        <div className="app-messages__older">
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={older} disabled={loadingOlder}>
            {loadingOlder ? 'Loading…' : 'Show earlier messages'}
          </button>
          {olderError && <p className="nhsuk-error-message">Earlier messages could not be loaded. Try again</p>}
        </div>
      )}
      {!window_.loaded && messages.length === 0 && <p className="app-messages__empty">Loading messages…</p>}
      {window_.loaded && messages.length === 0 && window_.pending.length === 0 && <p className="app-messages__empty">No messages yet. Say hello.</p>}
      <ol className="app-message-list">
        {messages.map((m) => (
          <MessageItem key={m.seq} chat={chat} conversation={conversation} message={m} actions={actions} />
        ))}
        {window_.pending.map((p) => (
          <li key={p.client_id} className={`app-message app-message--mine app-message--pending${p.failed ? ' app-message--failed' : ''}`}>
            <p className="app-message__body">{p.body}</p>
            <div className="app-message__foot">
              {p.failed ? (
                <>
                  <span className="nhsuk-error-message app-inline-error">Not sent</span>
                  <button type="button" className="app-link-button" onClick={() => onRetry(p)}>
                    Try again
                  </button>
                  <button type="button" className="app-link-button" onClick={() => onDiscard(p)}>
                    Discard
                  </button>
                </>
              ) : (
                <span className="app-message__status">Sending…</span>
              )}
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}
