// What the clinical features hold beside the chat state, in memory only (never in web storage):
// the latest escalation of each message, the warnings my sends answered with, which copies reached
// me silently (off duty), the urgent alert on screen, IG alerts pushed live, my duty status, and
// the patients I looked at. Dropped with the Session, like everything else.
import { useSyncExternalStore } from 'react';
import type { Alert } from '../api/audit';
import type { DutyStatus, Escalation, Patient, Warning } from '../api/clinical';
import type { Priority } from '../api/types';
import { mergeEscalation } from '../clinical/escalation';
import { useSessionOrNull } from './SessionContext';

/** An urgent or emergency message that should catch the eye now (never its text). */
export interface UrgentAlert {
  id: number;
  conversationId: string;
  messageId: string;
  priority: Priority;
  senderId: string;
  /** new: just arrived; escalated: still not acknowledged, alerted again (step n). */
  kind: 'new' | 'escalated';
  step: number;
}

export interface DutyInfo {
  status: DutyStatus;
  until: string | null;
  coveringRoleId: string | null;
}

export interface ClinicalState {
  escalations: Readonly<Record<string, Escalation>>;
  warnings: Readonly<Record<string, readonly Warning[]>>;
  silent: Readonly<Record<string, true>>;
  alert: UrgentAlert | null;
  /** IG alerts pushed on the event stream since sign-in, newest first. */
  igAlerts: readonly Alert[];
  duty: DutyInfo | null;
  patients: Readonly<Record<string, Patient>>;
}

export const emptyClinical: ClinicalState = { escalations: {}, warnings: {}, silent: {}, alert: null, igAlerts: [], duty: null, patients: {} };

export type ClinicalAction =
  | { type: 'escalation'; messageId: string; escalation: Escalation }
  | { type: 'warnings'; messageId: string; warnings: Warning[] }
  | { type: 'silent'; messageIds: string[] }
  | { type: 'alert'; alert: Omit<UrgentAlert, 'id'> }
  | { type: 'dismissAlert' }
  | { type: 'igAlert'; alert: Alert }
  | { type: 'duty'; duty: DutyInfo }
  | { type: 'patient'; patient: Patient };

export function clinicalReducer(s: ClinicalState, a: ClinicalAction): ClinicalState {
  switch (a.type) {
    case 'escalation': {
      const next = mergeEscalation(s.escalations[a.messageId], a.escalation);
      return next ? { ...s, escalations: { ...s.escalations, [a.messageId]: next } } : s;
    }
    case 'warnings':
      return a.warnings.length === 0 ? s : { ...s, warnings: { ...s.warnings, [a.messageId]: a.warnings } };
    case 'silent': {
      if (a.messageIds.length === 0) return s;
      const silent = { ...s.silent };
      for (const id of a.messageIds) silent[id] = true;
      return { ...s, silent };
    }
    case 'alert':
      return { ...s, alert: { ...a.alert, id: (s.alert?.id ?? 0) + 1 } };
    case 'dismissAlert':
      return s.alert ? { ...s, alert: null } : s;
    case 'igAlert':
      return s.igAlerts.some((x) => x.id === a.alert.id) ? s : { ...s, igAlerts: [a.alert, ...s.igAlerts].slice(0, 200) };
    case 'duty':
      return { ...s, duty: a.duty };
    case 'patient':
      return { ...s, patients: { ...s.patients, [a.patient.id]: a.patient } };
  }
}

export class ClinicalStore {
  private state: ClinicalState = emptyClinical;
  private readonly listeners = new Set<() => void>();

  getState = (): ClinicalState => this.state;

  dispatch = (action: ClinicalAction): void => {
    const next = clinicalReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  };

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

// Outside a SessionProvider (a component rendered on its own in a test) the state is empty.
const detached = new ClinicalStore();

/** The signed-in session's clinical store. */
export function useClinicalStore(): ClinicalStore {
  return useSessionOrNull()?.clinical ?? detached;
}

export function useClinical(): ClinicalState {
  const store = useClinicalStore();
  return useSyncExternalStore(store.subscribe, store.getState);
}
