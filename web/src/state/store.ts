// A tiny external store around chatReducer, read by components through useChat().
import { createContext, useContext, useSyncExternalStore } from 'react';
import { type ChatAction, type ChatState, chatReducer, emptyChat } from './chat';

export class ChatStore {
  private state: ChatState = emptyChat;
  private readonly listeners = new Set<() => void>();

  getState = (): ChatState => this.state;

  dispatch = (action: ChatAction): void => {
    const next = chatReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  };

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export const ChatStoreContext = createContext<ChatStore | null>(null);

export function useChatStore(): ChatStore {
  const store = useContext(ChatStoreContext);
  if (!store) throw new Error('useChatStore outside ChatStoreContext');
  return store;
}

/** The whole in-memory state; components derive what they show with the selectors. */
export function useChat(): ChatState {
  const store = useChatStore();
  return useSyncExternalStore(store.subscribe, store.getState);
}
