// The app's top level: find out whether a session exists, sign in if not, and run the signed-in
// screens inside one Session. Any end of the session (revoked, expired, signed out) erases what
// the page holds by reloading it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { getMe, logout } from './api/auth';
import { isApiError, onSessionEnded, onSessionLocked } from './api/client';
import type { User } from './api/types';
import { Layout } from './components/Layout';
import { PageHeading } from './components/PageHeading';
import { PinPrompt } from './components/PinPrompt';
import { Link, navigate, usePath } from './router';
import { allowed, findRoute } from './routes';
import { LockScreen } from './screens/lock/LockScreen';
import { SignInScreen } from './screens/signin/SignInScreen';
import { SessionProvider } from './state/SessionContext';
import { useIdleLock } from './state/useIdleLock';
import { useLockState } from './state/lock';
import { type EndReason, Session } from './state/session';
import { eraseAndReload } from './state/wipe';

type AppState =
  | { kind: 'checking' }
  // The session has ended: nothing is shown while storage is erased and the page reloads.
  | { kind: 'ending' }
  // restricted: a session from before a reload that still has to change its password or enrol a
  // second factor (email: whose, to fill in the sign-in that follows a password change).
  | { kind: 'signed-out'; reason: string | null; restricted?: 'password' | 'enrol'; user?: User }
  // lockIdleSeconds: from the login answer, until GET /me/security says.
  | { kind: 'signed-in'; session: Session; lockIdleSeconds?: number };

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
    onSessionLocked(null);
    setState({ kind: 'ending' });
    void eraseAndReload(reason);
  }, []);

  const begin = useCallback(
    async (user: User, lockIdleSeconds?: number) => {
      const session = new Session(user, end);
      sessionRef.current = session;
      onSessionEnded(() => session.end('expired'));
      onSessionLocked(() => session.lockedElsewhere());
      try {
        await session.start();
      } catch (e) {
        if (isApiError(e, 'unauthenticated')) return; // onSessionEnded has taken over
        onSessionEnded(null);
        onSessionLocked(null);
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
      setState({ kind: 'signed-in', session, lockIdleSeconds });
    },
    [end],
  );

  useEffect(() => {
    let cancelled = false;
    getMe().then(
      (me) => {
        if (cancelled) return;
        if (me.password_change_required) setState({ kind: 'signed-out', reason: null, restricted: 'password', user: me });
        else if (me.mfa_enrollment_required) setState({ kind: 'signed-out', reason: null, restricted: 'enrol', user: me });
        else void begin(me);
      },
      () => !cancelled && setState({ kind: 'signed-out', reason: endedReasonFromUrl() }),
    );
    return () => {
      cancelled = true;
      onSessionEnded(null);
      onSessionLocked(null);
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
        restricted={state.restricted}
        restrictedUser={state.user}
        onSignedIn={(u, lockIdleSeconds) => void begin(u, lockIdleSeconds)}
      />
    );
  }

  return <SignedIn session={state.session} path={path} lockIdleSeconds={state.lockIdleSeconds} />;
}

/**
 * The signed-in app, or its lock screen. Locked, nothing of the screens is rendered: the content
 * leaves the DOM (it stays in this page's memory, and the server holds back live events until
 * the unlock).
 */
function SignedIn({ session, path, lockIdleSeconds }: { session: Session; path: string; lockIdleSeconds?: number }) {
  const lock = useLockState(session.lock);
  useIdleLock(session, lock, lockIdleSeconds);
  if (lock.locked) return <LockScreen session={session} lock={lock} />;
  const found = findRoute(path);
  const Screen = found && allowed(found.route, session.me.org_role) ? found.route.screen : null;
  return (
    <SessionProvider session={session}>
      <Layout path={path} onSignOut={() => void session.signOut()}>
        {lock.needsPin && path !== '/me/security' && <PinPrompt />}
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
