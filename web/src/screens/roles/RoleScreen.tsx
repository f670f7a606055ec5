// One role: who holds it, its rota from now on, taking, releasing and handing it over, and
// "message the role": the answer says who was reached (or that nobody was) and any warnings.
import { useCallback, useState } from 'react';
import { isApiError } from '../../api/client';
import { type RoleMessageResult, handOverRole, messageRole, releaseRole, takeRole } from '../../api/clinical';
import type { DirectoryPerson, Priority } from '../../api/types';
import { describeWarning } from '../../clinical/warnings';
import { PageHeading } from '../../components/PageHeading';
import { PersonSearch } from '../../components/PersonSearch';
import { Link, type Params } from '../../router';
import { useSession } from '../../state/SessionContext';
import { usePersonName, useRoles } from '../../state/directory';
import { newClientId } from '../../state/ids';
import { Composer } from '../conversation/Composer';
import { HolderList } from './HolderList';
import { RotaList } from './RotaList';

export function RoleScreen({ params }: { params: Params }) {
  const id = params.id ?? '';
  const session = useSession();
  const { roles, error, reload, roleName } = useRoles();
  const name = usePersonName();
  const [sent, setSent] = useState<(RoleMessageResult & { priority: Priority }) | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [handingOver, setHandingOver] = useState(false);
  const remember = useCallback((p: DirectoryPerson[]) => session.rememberPeople(p), [session]);
  const role = roles?.find((r) => r.id === id);

  const send = useCallback(
    async (body: string, priority: Priority, ack: boolean) => {
      setSendError(null);
      setSent(null);
      try {
        const res = await messageRole(id, { client_id: newClientId(), body, priority, requires_ack: ack });
        if (res.warnings.length) session.clinical.dispatch({ type: 'warnings', messageId: res.message.id, warnings: res.warnings });
        if (res.message.escalation) session.clinical.dispatch({ type: 'escalation', messageId: res.message.id, escalation: res.message.escalation });
        await session.refreshConversation(res.conversation_id).catch(() => undefined);
        session.store.dispatch({ type: 'messages', messages: [res.message], live: false });
        setSent({ ...res, priority });
      } catch (e) {
        setSendError(isApiError(e, 'invalid') ? e.message : 'The message was not sent. Check your connection and try again');
        throw e;
      }
    },
    [id, session],
  );

  async function act(what: () => Promise<void>, ok: string, failed: string) {
    setActionError(null);
    setDone(null);
    try {
      await what();
      await reload();
      setDone(ok);
    } catch (e) {
      setActionError(isApiError(e, 'invalid') ? e.message : failed);
    }
  }

  if (roles && !role) {
    return (
      <>
        <PageHeading>Role not found</PageHeading>
        <p>
          It may have been removed. <Link href="/roles">All roles</Link>
        </p>
      </>
    );
  }
  if (!role) {
    return (
      <>
        <PageHeading>{error ? 'Sorry, the role could not be loaded' : 'Loading role…'}</PageHeading>
        <Link href="/roles">All roles</Link>
      </>
    );
  }
  const mine = role.holders.some((h) => h.user_id === session.me.id);
  return (
    <>
      <Link className="nhsuk-back-link" href="/roles">
        Roles
      </Link>
      <PageHeading>{role.name}</PageHeading>
      <h2 className="nhsuk-heading-m">Holding it now</h2>
      <HolderList role={role} name={name} />
      <RotaList roleId={role.id} roleName={role.name} name={name} heading="h2" />
      {role.fallback_role_id && <p>When nobody holds it, messages go to {roleName(role.fallback_role_id)}.</p>}
      {role.escalation_role_ids.length > 0 && <p>Unacknowledged urgent messages escalate to {role.escalation_role_ids.map(roleName).join(', then ')}.</p>}

      <div aria-live="polite">{done && <p className="app-tracking__done">{done}</p>}</div>
      {actionError && (
        <p className="nhsuk-error-message" role="alert">
          {actionError}
        </p>
      )}
      <div className="app-button-row app-role-actions">
        {mine ? (
          <>
            <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act(() => releaseRole(role.id), `You no longer hold ${role.name}.`, 'The role could not be released. Try again')}>
              Release role
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setHandingOver((v) => !v)} aria-expanded={handingOver}>
              Hand over
            </button>
          </>
        ) : (
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act(() => takeRole(role.id), `You now hold ${role.name}.`, 'The role could not be taken. Try again')}>
            Take role
          </button>
        )}
      </div>
      {mine && handingOver && (
        <section className="app-handover" aria-labelledby="handover-heading">
          <h2 className="nhsuk-heading-s" id="handover-heading">
            Hand {role.name} over
          </h2>
          <p>They take over the role and its conversations (with their history) from now; you leave them.</p>
          <PersonSearch
            id="handover-to"
            label="Who takes over?"
            actionLabel="Hand over to"
            exclude={[session.me.id]}
            onResults={remember}
            onPick={(p) => {
              setHandingOver(false);
              void act(() => handOverRole(role.id, p.id), `${p.display_name} now holds ${role.name}.`, 'The role could not be handed over. Try again');
            }}
          />
        </section>
      )}

      <h2 className="nhsuk-heading-m">Message this role</h2>
      <p>It reaches whoever holds the role now (or its fallback), in one conversation that stays with the role across handovers.</p>
      {sendError && (
        <p className="nhsuk-error-message" role="alert">
          {sendError}
        </p>
      )}
      <div aria-live="polite" className="app-role-result">
        {sent && (
          <div className={`app-role-sent${sent.reached.length === 0 ? ' app-role-sent--nobody' : ''}`}>
            <h3 className="nhsuk-heading-s">{sent.reached.length === 0 ? 'Nobody was reached' : 'Sent'}</h3>
            {sent.reached.length > 0 ? (
              <p>
                {sent.role_id !== role.id ? `Sent to ${roleName(sent.role_id)}. ` : ''}Reached: {sent.reached.map(name).join(', ')}.
              </p>
            ) : (
              <p>The message is stored in the role’s conversation, but nobody holds the role or a fallback role now.</p>
            )}
            {sent.warnings.length > 0 && (
              <ul className="app-send-warnings">
                {sent.warnings.map((w, i) => {
                  const v = describeWarning(w, sent.priority, { person: name, role: roleName });
                  return (
                    <li key={i} className={`app-send-warning app-send-warning--${v.level}`} data-warning={w.code}>
                      {v.text}
                      {v.link && (
                        <>
                          {' '}
                          <Link href={v.link.href}>{v.link.label}</Link>
                        </>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
            <p>
              <Link href={`/conversations/${encodeURIComponent(sent.conversation_id)}`}>Open the conversation with {roleName(sent.role_id)}</Link>
            </p>
          </div>
        )}
      </div>
      <Composer onSend={send} />
    </>
  );
}
