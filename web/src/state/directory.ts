// Names for ids the clinical screens show (role holders, audit entries, rota): people from the
// directory (loaded once per session, in memory), roles from GET /roles.
import { useCallback, useEffect, useRef, useState } from 'react';
import { listRoles, type Role } from '../api/clinical';
import { searchDirectory } from '../api/directory';
import type { DirectoryPerson } from '../api/types';
import { useSession, useSessionOrNull } from './SessionContext';
import type { Session } from './session';
import { useChat } from './store';

const MAX_PAGES = 20; // 4,000 people: a large trust's clinical staff; beyond it names show as unknown

const loading = new WeakMap<Session, Promise<void>>();

/** Loads the whole directory into the session's people (once), so that ids can be named. */
export function loadDirectory(session: Session): Promise<void> {
  let p = loading.get(session);
  if (!p) {
    p = (async () => {
      let cursor: string | undefined;
      for (let i = 0; i < MAX_PAGES; i++) {
        const page = await searchDirectory('', cursor, 200);
        session.rememberPeople(page.items.filter((x): x is DirectoryPerson => x.kind === 'user'));
        if (!page.next_cursor) return;
        cursor = page.next_cursor;
      }
    })();
    p.catch(() => loading.delete(session)); // a failure may be retried later
    loading.set(session, p);
  }
  return p;
}

/** A function naming user ids; unknown ids make it load the directory once. */
export function usePersonName(): (id: string) => string {
  const session = useSession();
  const chat = useChat();
  const [asked, setAsked] = useState(false);
  const name = useCallback(
    (id: string) => {
      const p = chat.people[id];
      if (p) return id === session.me.id ? `${p.display_name} (you)` : p.display_name;
      if (!asked) queueMicrotask(() => setAsked(true));
      return 'Someone no longer in the directory';
    },
    [chat.people, asked, session.me.id],
  );
  useEffect(() => {
    if (asked) void loadDirectory(session).catch(() => undefined);
  }, [asked, session]);
  return name;
}

export interface RolesState {
  roles: Role[] | null;
  error: boolean;
  reload: () => Promise<void>;
  roleName: (id: string) => string;
}

/** The organisation's roles with their holders now; reload after a change. */
export function useRoles(): RolesState {
  const [roles, setRoles] = useState<Role[] | null>(null);
  const [error, setError] = useState(false);
  const reload = useCallback(async () => {
    try {
      setRoles(await listRoles());
      setError(false);
    } catch {
      setError(true);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const roleName = useCallback((id: string) => roles?.find((r) => r.id === id)?.name ?? 'a role', [roles]);
  return { roles, error, reload, roleName };
}

const roleCache = new WeakMap<Session, Promise<Role[]>>();
/** The roles last fetched for a session, so that a screen mounted later names them at once. */
const rolesKnown = new WeakMap<Session, Role[]>();

/**
 * A function naming role ids. The roles are fetched once per session, when first needed, and
 * again when an id is not among them (a role created since): each unknown id asks once. A
 * component mounted after a fetch starts from its answer, so a message that arrives later does
 * not first show "a role" and then the name.
 */
export function useRoleName(): (id: string) => string {
  const session = useSessionOrNull();
  const [roles, setRoles] = useState<Role[] | null>(() => (session ? rolesKnown.get(session) ?? null : null));
  const [asked, setAsked] = useState(() => roles !== null);
  const [generation, setGeneration] = useState(0);
  const refetched = useRef(new Set<string>());
  useEffect(() => {
    if (!asked || !session) return;
    let p = roleCache.get(session);
    if (!p) {
      p = listRoles();
      p.then(
        (r) => rolesKnown.set(session, r),
        () => roleCache.delete(session),
      );
      roleCache.set(session, p);
    }
    let live = true;
    p.then((r) => live && setRoles(r), () => undefined);
    return () => {
      live = false;
    };
  }, [asked, session, generation]);
  return useCallback(
    (id: string) => {
      const r = roles?.find((x) => x.id === id);
      if (r) return r.name;
      if (!asked) {
        queueMicrotask(() => setAsked(true));
      } else if (roles && session && !refetched.current.has(id)) {
        refetched.current.add(id);
        queueMicrotask(() => {
          roleCache.delete(session);
          setGeneration((g) => g + 1);
        });
      }
      return 'a role';
    },
    [roles, asked, session],
  );
}
