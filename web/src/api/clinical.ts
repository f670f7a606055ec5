// The clinical workflow (API.md "Clinical workflow", http/openapi/clinical.json): patients,
// conversation tracking, roles and rotas, duty status and the organisation's clinical policy.
// Patient identifiers travel in request bodies only: no function here puts an NHS number, a name
// or a date of birth into a path or a query string (the patient's opaque id is the only key).
import { request, requestAll } from './client';
import type { Conversation, Message, Page, Priority, User } from './types';

// ---- Shapes ------------------------------------------------------------------------------------

export interface Patient {
  id: string;
  /** 10 digits, no spaces; shown as "943 476 5919". */
  nhs_number: string;
  name: string;
  /** YYYY-MM-DD */
  date_of_birth: string;
  opted_out: boolean;
}

export type ConversationStatus = 'open' | 'resolved';

/** The clinical fields the server adds to Conversation (types.ts keeps the core shape). */
export interface ClinicalFields {
  category?: string | null;
  status?: ConversationStatus;
  /** Set on kind "role" conversations: the role they belong to. */
  role_id?: string | null;
  /** Where unacknowledged urgent messages in this conversation escalate first. */
  escalation_role_id?: string | null;
}

export type ClinicalConversation = Conversation & ClinicalFields;

export function clinicalOf(c: Conversation): ClinicalFields {
  return c as ClinicalConversation;
}

export interface ConversationPatch {
  patient_id?: string | null;
  category?: string | null;
  status?: ConversationStatus;
  escalation_role_id?: string | null;
}

export type EscalationState = 'pending' | 'acknowledged' | 'exhausted';

export interface Escalation {
  state: EscalationState;
  /** 0 when sent; +1 per step taken. */
  step: number;
  /** When the next step is due; null once acknowledged or exhausted. */
  next_at: string | null;
  /** Everyone alerted so far. */
  notified: string[];
}

/** The event pushed when a message's escalation moves on (a step, exhaustion or acknowledgement). */
export interface EscalationEvent {
  type: 'escalation';
  conversation_id: string;
  message_id: string;
  step: number;
  state: EscalationState;
  next_at: string | null;
  /** Who this step alerted (empty for an acknowledgement). */
  notified: string[];
  /** This copy is for someone off duty: show it without an alert. */
  silent?: boolean;
}

export type WarningCode = 'recipient_off_duty' | 'role_not_held' | 'nobody_reached';

/** Something the sender should know about who got a message. */
export interface Warning {
  code: WarningCode | string;
  user_id: string | null;
  covering_role_id: string | null;
  role_id?: string;
  conversation_id?: string;
}

/** A message as the server holds it, with its escalation (urgent and emergency ones). */
export interface ClinicalMessage extends Message {
  escalation?: Escalation | null;
  /** Only on the answer to the sender's own send. */
  warnings?: Warning[];
}

export interface RoleHolder {
  user_id: string;
  since: string;
  until: string | null;
}

export interface Role {
  id: string;
  name: string;
  holders: RoleHolder[];
  fallback_role_id: string | null;
  escalation_role_ids: string[];
}

export interface NewRole {
  name: string;
  fallback_role_id: string | null;
  escalation_role_ids: string[];
}

export interface RotaEntry {
  id: string;
  role_id: string;
  user_id: string;
  starts_at: string;
  ends_at: string;
  role_name: string;
}

export interface RoleMessageResult {
  message: ClinicalMessage;
  conversation_id: string;
  /** The role whose conversation got it: the one written to, or the fallback that was reached. */
  role_id: string;
  /** Who got it (not the sender); empty when nobody could be reached. */
  reached: string[];
  warnings: Warning[];
}

export type DutyStatus = 'on_duty' | 'off_duty' | 'on_leave';

/** The duty fields the server adds to User. */
export interface DutyFields {
  duty_status?: DutyStatus;
  duty_until?: string | null;
  covering_role_id?: string | null;
}

export type DutyUser = User & DutyFields;

export interface DutySetting {
  status: DutyStatus;
  until: string | null;
  covering_role_id: string | null;
}

export interface WorkingHours {
  start: string;
  end: string;
  time_zone?: string;
  weekdays?: number[] | null;
}

export interface ClinicalPolicy {
  escalation: { urgent_after_minutes: number; emergency_after_minutes: number; steps: number };
  categories: string[] | null;
  working_hours: WorkingHours | null;
  alert_off_duty: boolean;
  covering_role_id: string | null;
}

export const BUILTIN_CATEGORIES = ['clinical', 'handover', 'referral', 'admin', 'social'] as const;

// ---- Patients ----------------------------------------------------------------------------------

/** Registers a patient, or answers the one already registered under that number with that date of birth. */
export function registerPatient(p: { nhs_number: string; name: string; date_of_birth: string }): Promise<Patient> {
  return request<Patient>('/patients', { method: 'POST', body: p });
}

/** Finds a patient by NHS number and date of birth (both in the body); 404 when either does not match. */
export function lookupPatient(q: { nhs_number: string; date_of_birth: string }): Promise<Patient> {
  return request<Patient>('/patients/lookup', { method: 'POST', body: q });
}

export function getPatient(id: string): Promise<Patient> {
  return request<Patient>(`/patients/${encodeURIComponent(id)}`);
}

export function setPatientOptOut(id: string, optedOut: boolean): Promise<Patient> {
  return request<Patient>(`/patients/${encodeURIComponent(id)}`, { method: 'PATCH', body: { opted_out: optedOut } });
}

export function patientTimeline(id: string, cursor?: string, limit = 50): Promise<Page<ClinicalMessage>> {
  return request<Page<ClinicalMessage>>(`/patients/${encodeURIComponent(id)}/timeline`, { query: { cursor, limit } });
}

// ---- Conversation tracking ---------------------------------------------------------------------

export function updateConversation(id: string, patch: ConversationPatch): Promise<ClinicalConversation> {
  return request<ClinicalConversation>(`/conversations/${encodeURIComponent(id)}`, { method: 'PATCH', body: patch });
}

// ---- Roles and rotas ---------------------------------------------------------------------------

/** Every role of the organisation with who holds it now, following next_cursor to the end. */
export function listRoles(): Promise<Role[]> {
  return requestAll<Role>('/roles');
}

export function createRole(r: NewRole): Promise<Role> {
  return request<Role>('/admin/roles', { method: 'POST', body: r });
}

export function updateRole(id: string, patch: Partial<NewRole>): Promise<Role> {
  return request<Role>(`/admin/roles/${encodeURIComponent(id)}`, { method: 'PATCH', body: patch });
}

export function addRotaEntry(roleId: string, entry: { user_id: string; starts_at: string; ends_at: string }): Promise<RotaEntry> {
  return request<RotaEntry>(`/admin/roles/${encodeURIComponent(roleId)}/rota`, { method: 'POST', body: entry });
}

/** A role's rota entries that have not ended, the soonest first, following next_cursor to the end. */
export function listRota(roleId: string): Promise<RotaEntry[]> {
  return requestAll<RotaEntry>(`/roles/${encodeURIComponent(roleId)}/rota`);
}

/** The caller's own rota entries in every role that have not ended, the soonest first. */
export function listMyRota(): Promise<RotaEntry[]> {
  return requestAll<RotaEntry>('/me/rota');
}

/** Takes someone off the rota (admins): a future entry goes; one under way ends now. */
export function cancelRotaEntry(roleId: string, entryId: string): Promise<void> {
  return request<void>(`/admin/roles/${encodeURIComponent(roleId)}/rota/${encodeURIComponent(entryId)}`, { method: 'DELETE' });
}

export function takeRole(id: string): Promise<void> {
  return request<void>(`/roles/${encodeURIComponent(id)}/take`, { method: 'POST' });
}

export function releaseRole(id: string): Promise<void> {
  return request<void>(`/roles/${encodeURIComponent(id)}/release`, { method: 'POST' });
}

export function handOverRole(id: string, toUserId: string): Promise<void> {
  return request<void>(`/roles/${encodeURIComponent(id)}/handover`, { method: 'POST', body: { to_user_id: toUserId } });
}

export function messageRole(id: string, msg: { client_id: string; body: string; priority: Priority; requires_ack: boolean }): Promise<RoleMessageResult> {
  return request<RoleMessageResult>(`/roles/${encodeURIComponent(id)}/messages`, { method: 'POST', body: msg });
}

// ---- Duty and policy ---------------------------------------------------------------------------

export function setDutyStatus(s: DutySetting): Promise<void> {
  return request<void>('/me/status', { method: 'PUT', body: s });
}

export function getClinicalPolicy(): Promise<ClinicalPolicy> {
  return request<ClinicalPolicy>('/clinical-policy');
}

export function setClinicalPolicy(p: ClinicalPolicy): Promise<ClinicalPolicy> {
  return request<ClinicalPolicy>('/admin/clinical-policy', { method: 'PUT', body: p });
}
