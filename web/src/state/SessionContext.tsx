// Gives screens the signed-in Session and its store.
import { type ReactNode, createContext, useContext } from 'react';
import type { Session } from './session';
import { ChatStoreContext } from './store';

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return (
    <SessionContext.Provider value={session}>
      <ChatStoreContext.Provider value={session.store}>{children}</ChatStoreContext.Provider>
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The Session, or null outside a SessionProvider (components also rendered on their own in tests). */
export function useSessionOrNull(): Session | null {
  return useContext(SessionContext);
}
