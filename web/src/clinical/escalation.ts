// An urgent message's escalation as the sender sees it: waiting for an acknowledgement, escalated
// (step N, who was alerted, when the next step is due), acknowledged, or exhausted. The message
// carries its escalation as the server last knew it; `escalation` events move it on live.
import type { Escalation, EscalationState } from '../api/clinical';
import { formatTime } from '../components/Time';

const RANK: Record<EscalationState, number> = { pending: 0, acknowledged: 1, exhausted: 1 };

/** The later of two views of one escalation: a higher step wins; at one step, a finished state wins. */
function later(a: Escalation, b: Escalation): Escalation {
  if (b.step !== a.step) return b.step > a.step ? b : a;
  return RANK[b.state] > RANK[a.state] ? b : a;
}

/**
 * Folds an update (an event, or a fresher copy of the message) into what is known. Events name
 * only whom their own step alerted, so the people alerted so far are the union of both.
 */
export function mergeEscalation(cur: Escalation | null | undefined, update: Escalation | null | undefined): Escalation | null {
  if (!cur) return update ?? null;
  if (!update) return cur;
  const winner = later(cur, update);
  const notified = [...cur.notified];
  for (const id of update.notified) if (!notified.includes(id)) notified.push(id);
  return { ...winner, notified };
}

export type EscalationTone = 'waiting' | 'escalated' | 'acknowledged' | 'exhausted';

export interface EscalationView {
  tone: EscalationTone;
  /** A short label for a tag: "Awaiting acknowledgement", "Escalated: step 2", ... */
  label: string;
  /** One sentence for the sender: what happened and what happens next. */
  detail: string;
}

function names(ids: string[], name: (id: string) => string): string {
  const list = ids.map(name);
  if (list.length <= 1) return list[0] ?? '';
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/** What the sender is told about an escalation. `name` names a user id; `now` dates next_at. */
export function describeEscalation(e: Escalation, name: (id: string) => string, now: Date = new Date()): EscalationView {
  const alerted = e.notified.length > 0 ? `Alerted so far: ${names(e.notified, name)}.` : 'Nobody has been alerted yet.';
  const next = e.next_at ? formatTime(e.next_at, now) : '';
  switch (e.state) {
    case 'acknowledged':
      return {
        tone: 'acknowledged',
        label: 'Acknowledged',
        detail: e.step === 0 ? 'Acknowledged: no escalation was needed.' : `Acknowledged after ${e.step} escalation ${e.step === 1 ? 'step' : 'steps'}. ${alerted}`,
      };
    case 'exhausted':
      return {
        tone: 'exhausted',
        label: 'Not acknowledged',
        detail: `Nobody acknowledged it after ${e.step} escalation ${e.step === 1 ? 'step' : 'steps'} and no further steps remain. ${alerted} Phone or bleep someone now.`,
      };
    default:
      if (e.step === 0) {
        return {
          tone: 'waiting',
          label: 'Escalates if not acknowledged',
          detail: `${alerted}${next ? ` If nobody acknowledges it, it escalates at ${next}.` : ''}`,
        };
      }
      return {
        tone: 'escalated',
        label: `Escalated: step ${e.step}`,
        detail: `Not acknowledged yet, so it escalated (step ${e.step}). ${alerted}${next ? ` Next step at ${next}.` : ''}`,
      };
  }
}
