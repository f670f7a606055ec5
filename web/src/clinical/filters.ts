// The conversation list's filters: open or resolved, category, linked to a patient, urgent, and a
// search over titles. Pure, over what the app holds.
import { clinicalOf } from '../api/clinical';
import type { Conversation } from '../api/types';
import type { ChatState } from '../state/chat';
import type { ClinicalState } from '../state/clinical';
import { mergeEscalation } from './escalation';
import { conversationTitle, hasUnacknowledgedUrgent } from '../state/selectors';

export interface ListFilters {
  query: string;
  status: 'all' | 'open' | 'resolved';
  /** '' for any category; 'none' for conversations without one. */
  category: string;
  patientOnly: boolean;
  urgentOnly: boolean;
}

export const noFilters: ListFilters = { query: '', status: 'all', category: '', patientOnly: false, urgentOnly: false };

export function filtersActive(f: ListFilters): boolean {
  return f.query.trim() !== '' || f.status !== 'all' || f.category !== '' || f.patientOnly || f.urgentOnly;
}

export type UrgentMark = { priority: 'urgent' | 'emergency'; reason: 'awaits-me' | 'awaits-others' };

/**
 * Why a conversation is marked urgent: an urgent or emergency message in it waits for my
 * acknowledgement, or one of mine still waits for somebody's (its escalation is pending).
 */
export function urgentMark(chat: ChatState, clinical: ClinicalState, c: Conversation): UrgentMark | null {
  const mine = hasUnacknowledgedUrgent(chat, c.id);
  if (mine) return { priority: mine, reason: 'awaits-me' };
  const w = chat.windows[c.id];
  if (!w) return null;
  let found: UrgentMark | null = null;
  for (const seq of w.seqs) {
    const m = w.bySeq[seq]!;
    if (m.priority === 'routine' || m.deleted || m.sender_id !== chat.me?.id) continue;
    const esc = mergeEscalation((m as { escalation?: null }).escalation ?? null, clinical.escalations[m.id]);
    if (esc?.state !== 'pending') continue;
    if (m.priority === 'emergency') return { priority: 'emergency', reason: 'awaits-others' };
    found = { priority: 'urgent', reason: 'awaits-others' };
  }
  return found;
}

export function filterConversations(chat: ChatState, clinical: ClinicalState, list: readonly Conversation[], f: ListFilters): Conversation[] {
  const q = f.query.trim().toLowerCase();
  return list.filter((c) => {
    const x = clinicalOf(c);
    if (f.status !== 'all' && (x.status ?? 'open') !== f.status) return false;
    if (f.category === 'none' && x.category) return false;
    if (f.category && f.category !== 'none' && x.category !== f.category) return false;
    if (f.patientOnly && !c.patient_id) return false;
    if (f.urgentOnly && !urgentMark(chat, clinical, c)) return false;
    return !q || conversationTitle(chat, c).toLowerCase().includes(q);
  });
}
