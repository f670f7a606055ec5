// The app's top level: find out whether a session exists, sign in if not, and run the signed-in
// screens inside one Session. Any end of the session (revoked, expired, signed out) erases what
// the page holds by reloading it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { getMe, logout } from './api/auth';
import { isApiError, onSessionEnded } from './api/client';
import type { User } from './api/types';
import { Layout } from './components/Layout';
import { PageHeading } from './components/PageHeading';
import { Link, navigate, usePath } from './router';
import { allowed, findRoute } from './routes';
import { SignInScreen } from './screens/signin/SignInScreen';
import { SessionProvider } from './state/SessionContext';
import { type EndReason, Session } from './state/session';
import { eraseAndReload } from './state/wipe';

type AppState =
  | { kind: 'checking' }
  // The session has ended: nothing is shown while storage is erased and the page reloads.
  | { kind: 'ending' }
  // mustChangePassword: a session from before a reload that still has to change its password
  // (email: whose, to fill in the sign-in that follows the change).
  | { kind: 'signed-out'; reason: string | null; mustChangePassword?: boolean; email?: string }
  | { kind: 'signed-in'; session: Session };

function endedReasonFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get('ended');
}

export function App() {
  const [state, setState] = useState<AppState>({ kind: 'checking' });
  const sessionRef = useRef<Session | null>(null);
  const path = usePath();

  const end = useCallback((reason: EndReason | 'restricted') => {
    sessionRef.current?.stop();
    sessionRef.current = null;
    onSessionEnded(null);
    setState({ kind: 'ending' });
    void eraseAndReload(reason);
  }, []);

  const begin = useCallback(
    async (user: User) => {
      const session = new Session(user, end);
      sessionRef.current = session;
      onSessionEnded(() => session.end('expired'));
      try {
        await session.start();
      } catch (e) {
        if (isApiError(e, 'unauthenticated')) return; // onSessionEnded has taken over
        onSessionEnded(null);
        session.stop();
        sessionRef.current = null;
        if (isApiError(e, 'forbidden')) {
          // A restricted session (password change or enrolment pending) from an earlier visit.
          await logout().catch(() => undefined);
          setState({ kind: 'signed-out', reason: 'restricted' });
          return;
        }
        setState({ kind: 'signed-out', reason: null });
        return;
      }
      if (window.location.pathname === '/signin') navigate('/', { replace: true });
      setState({ kind: 'signed-in', session });
    },
    [end],
  );

  useEffect(() => {
    let cancelled = false;
    getMe().then(
      (me) => {
        if (cancelled) return;
        if (me.password_change_required) setState({ kind: 'signed-out', reason: null, mustChangePassword: true, email: me.email });
        else void begin(me);
      },
      () => !cancelled && setState({ kind: 'signed-out', reason: endedReasonFromUrl() }),
    );
    return () => {
      cancelled = true;
      onSessionEnded(null);
      sessionRef.current?.stop();
    };
  }, [begin]);


  if (state.kind === 'checking' || state.kind === 'ending') {
    return (
      <p className="app-loading" role="status">
        {state.kind === 'checking' ? 'Loading Wardline…' : 'Signing out…'}
      </p>
    );
  }
  if (state.kind === 'signed-out') {
    return (
      <SignInScreen
        endedReason={state.reason}
        mustChangePassword={state.mustChangePassword ?? false}
        initialEmail={state.email ?? ''}
        onSignedIn={(u) => void begin(u)}
      />
    );
  }

  const found = findRoute(path);
  const Screen = found && allowed(found.route, state.session.me.org_role) ? found.route.screen : null;
  return (
    <SessionProvider session={state.session}>
      <Layout path={path} onSignOut={() => void state.session.signOut()}>
        {Screen && found ? <Screen key={path} params={found.params} /> : <NotFound />}
      </Layout>
    </SessionProvider>
  );
}

function NotFound() {
  return (
    <>
      <PageHeading>Page not found</PageHeading>
      <p>
        This page does not exist, or you do not have access to it. <Link href="/">Go to your conversations</Link>.
      </p>
    </>
  );
}
