// The clinical side of a Session: what arriving messages, `escalation` and `alert` events and
// the answers to my sends change. Alerts never carry message text: who, where and how urgent.
import type { Alert } from '../api/audit';
import type { ClinicalMessage, EscalationEvent } from '../api/clinical';
import type { AnyServerEvent, MessageSource } from '../api/events';
import type { Message } from '../api/types';
import { playAlertTone } from './alertTone';
import { conversationTitle, personName } from './selectors';
import type { Session } from './session';

/** Messages arrived: silent copies are remembered as such; live urgent ones from others alert. */
export function onClinicalMessages(session: Session, source: MessageSource, messages: Message[], silent: boolean): void {
  const me = session.me.id;
  const fromOthers = messages.filter((m) => m.sender_id !== me && !m.deleted);
  if (silent) {
    session.clinical.dispatch({ type: 'silent', messageIds: fromOthers.map((m) => m.id) });
    return;
  }
  if (source !== 'live') return; // a replay after reconnecting shows, but does not ring
  const urgent = fromOthers.filter((m) => m.priority !== 'routine');
  const last = urgent.find((m) => m.priority === 'emergency') ?? urgent[urgent.length - 1];
  if (!last) return;
  session.clinical.dispatch({
    type: 'alert',
    alert: { conversationId: last.conversation_id, messageId: last.id, priority: last.priority, senderId: last.sender_id, kind: 'new', step: 0 },
  });
  playAlertTone(last.priority === 'emergency' ? 'emergency' : 'urgent');
}

function findMessage(session: Session, conversationId: string, messageId: string): Message | undefined {
  const w = session.store.getState().windows[conversationId];
  if (!w) return undefined;
  for (const seq of w.seqs) if (w.bySeq[seq]?.id === messageId) return w.bySeq[seq];
  return undefined;
}

/** Events of the clinical features; anything else is ignored. */
export function onClinicalEvent(session: Session, e: AnyServerEvent): void {
  if (e.type === 'escalation') onEscalation(session, e as unknown as EscalationEvent);
  else if (e.type === 'alert') onIgAlert(session, (e as unknown as { alert: Alert }).alert);
}

function onEscalation(session: Session, ev: EscalationEvent): void {
  session.clinical.dispatch({
    type: 'escalation',
    messageId: ev.message_id,
    escalation: { state: ev.state, step: ev.step, next_at: ev.next_at, notified: ev.notified ?? [] },
  });
  const me = session.me.id;
  const m = findMessage(session, ev.conversation_id, ev.message_id);
  const chat = session.store.getState();
  const conv = chat.conversations[ev.conversation_id];
  const where = conv ? ` in ${conversationTitle(chat, conv)}` : '';
  if (m?.sender_id === me) {
    // The sender hears how their message is doing, politely (they are not the one to act).
    const text =
      ev.state === 'acknowledged'
        ? `Your ${m.priority} message${where} was acknowledged`
        : ev.state === 'exhausted'
          ? `Your ${m.priority} message${where} was not acknowledged and has no escalation steps left`
          : `Your ${m.priority} message${where} was not acknowledged and escalated (step ${ev.step})`;
    session.store.dispatch({ type: 'announce', text });
    return;
  }
  // Someone this step alerted (again, or for the first time): ring, unless off duty.
  if (ev.state === 'pending' && ev.notified?.includes(me) && !ev.silent) {
    const priority = m?.priority === 'emergency' ? 'emergency' : 'urgent';
    session.clinical.dispatch({
      type: 'alert',
      alert: { conversationId: ev.conversation_id, messageId: ev.message_id, priority, senderId: m?.sender_id ?? '', kind: 'escalated', step: ev.step },
    });
    playAlertTone(priority);
  }
}

function onIgAlert(session: Session, alert: Alert | undefined): void {
  if (!alert) return;
  session.clinical.dispatch({ type: 'igAlert', alert });
  session.store.dispatch({ type: 'announce', text: `New information governance alert: ${alert.message}` });
}

/** My send was stored: keep its warnings and its escalation. */
export function onSent(session: Session, m: ClinicalMessage): void {
  if (m.warnings?.length) session.clinical.dispatch({ type: 'warnings', messageId: m.id, warnings: m.warnings });
  if (m.escalation) session.clinical.dispatch({ type: 'escalation', messageId: m.id, escalation: m.escalation });
}

/** The sender's name for an alert banner (never the text). */
export function alertSender(session: Session, senderId: string): string {
  return senderId ? personName(session.store.getState(), senderId) : 'A colleague';
}
