// The IG console's calls (http/openapi/audit.json): audit search and export, the signed
// checkpoint and its consistency proof, investigations and transcripts, alerts and their policy.
// A patient is searched for by NHS number in the request body (POST), never in a URL.
import { type DownloadedFile, request, requestFile } from './client';
import type { Page } from './types';

export interface AuditEvent {
  seq: number;
  id: string;
  at: string;
  org_id: string;
  actor_id: string;
  session_id: string;
  source_addr: string;
  action: string;
  target_type: string;
  target_id: string;
  conversation_id: string;
  outcome: 'success' | 'denied' | 'failure' | string;
  justification: string;
  detail?: Record<string, unknown>;
}

/** Every field optional; empty strings are left out before sending. */
export interface AuditQuery {
  actor_email?: string;
  actor_id?: string;
  conversation_id?: string;
  nhs_number?: string;
  action?: string;
  since?: string;
  until?: string;
}

export interface Checkpoint {
  origin: string;
  size: number;
  /** RFC 6962 Merkle root, standard base64. */
  root_hash: string;
  time: string;
  signed_note: string;
  verifier_key: string;
}

export interface ConsistencyProof {
  from: number;
  to: number;
  proof: string[];
  checkpoint: Checkpoint;
}

export interface Investigation {
  id: string;
  org_id: string;
  conversation_id: string;
  opened_by: string;
  opened_at: string;
  justification: string;
  status: 'open' | 'closed';
  closed_by?: string;
  closed_at: string | null;
}

export interface InvestigationDetail extends Investigation {
  exports: AuditEvent[];
}

export const ALERT_KINDS = [
  'many_conversations_read',
  'many_patients_read',
  'access_outside_hours',
  'bulk_export',
  'failed_sign_ins_account',
  'failed_sign_ins_address',
  'new_device',
  'patient_read_outside_conversation',
] as const;

export interface Alert {
  id: string;
  org_id: string;
  kind: string;
  at: string;
  user_id: string;
  source_addr: string;
  target_id: string;
  count: number;
  threshold: number;
  audit_seq: number;
  message: string;
}

export interface AlertPolicy {
  conversations_read_per_hour: number;
  patients_read_per_hour: number;
  export_items_per_hour: number;
  failed_sign_ins_per_account: number;
  failed_sign_ins_per_address: number;
  working_hours: string;
  time_zone: string;
  disabled: string[] | null;
  cooldown_minutes: number;
}

function clean(q: AuditQuery): AuditQuery {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  return out;
}

export function searchAudit(q: AuditQuery, cursor?: string, limit = 50): Promise<Page<AuditEvent>> {
  return request<Page<AuditEvent>>('/audit/search', { method: 'POST', body: { ...clean(q), ...(cursor ? { cursor } : {}), limit } });
}

/** Every entry the search finds, as a CSV or JSON file to save. */
export function exportAudit(q: AuditQuery, format: 'csv' | 'json'): Promise<DownloadedFile> {
  return requestFile('/audit/export', { method: 'POST', body: { ...clean(q), format } }, `wardline-audit.${format}`);
}

export function getCheckpoint(): Promise<Checkpoint> {
  return request<Checkpoint>('/audit/checkpoint');
}

export function getConsistencyProof(from: number, to?: number): Promise<ConsistencyProof> {
  return request<ConsistencyProof>('/audit/proof/consistency', { query: { from, to } });
}

export function openInvestigation(conversationId: string, justification: string): Promise<Investigation> {
  return request<Investigation>('/audit/investigations', { method: 'POST', body: { conversation_id: conversationId, justification } });
}

export async function listInvestigations(): Promise<Investigation[]> {
  const all: Investigation[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await request<Page<Investigation>>('/audit/investigations', { query: { cursor, limit: 200 } });
    all.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return all;
}

export function getInvestigation(id: string): Promise<InvestigationDetail> {
  return request<InvestigationDetail>(`/audit/investigations/${encodeURIComponent(id)}`);
}

export function closeInvestigation(id: string): Promise<void> {
  return request<void>(`/audit/investigations/${encodeURIComponent(id)}/close`, { method: 'POST' });
}

export function downloadTranscript(id: string, format: 'json' | 'pdf'): Promise<DownloadedFile> {
  return requestFile(`/audit/investigations/${encodeURIComponent(id)}/transcript`, { query: { format } }, `wardline-transcript-${id}.${format}`);
}

export function listAlerts(kind?: string, cursor?: string): Promise<Page<Alert>> {
  return request<Page<Alert>>('/audit/alerts', { query: { kind, cursor, limit: 50 } });
}

export function getAlertPolicy(): Promise<AlertPolicy> {
  return request<AlertPolicy>('/audit/alert-policy');
}

export function setAlertPolicy(p: AlertPolicy): Promise<AlertPolicy> {
  return request<AlertPolicy>('/audit/alert-policy', { method: 'PUT', body: p });
}
