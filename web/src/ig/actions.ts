// Audit actions the search offers as suggestions (the server accepts any action name).
export const AUDIT_ACTIONS = `admin.alert_policy_changed admin.clinical_policy_set admin.conversation_shredded admin.mfa_reset admin.password_reset admin.policy_changed admin.user_created admin.user_offboarded admin.user_reinstated admin.user_suspended audit.alert_raised audit.exported audit.investigation_closed audit.investigation_opened audit.searched audit.transcript_exported auth.login auth.login_failed auth.logout auth.mfa_failed auth.passkey_registered auth.password_changed auth.session_revoked auth.sessions_revoked_all auth.totp_enrolled auth.unlock_failed conversation.created conversation.member_added conversation.member_removed conversation.updated conversation.viewed directory.searched message.acknowledged message.deleted message.edited message.escalated message.forwarded_to_cover message.history_read message.sent patient.looked_up patient.matched patient.registered patient.timeline_viewed patient.updated patient.viewed role.created role.handed_over role.released role.rota_entry_created role.taken role.updated user.duty_status_set`.split(' ');

/** "patient.timeline_viewed" → "Patient timeline viewed". */
export function actionLabel(action: string): string {
  const s = action.replace(/[._]/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const ALERT_LABELS: Record<string, string> = {
  many_conversations_read: 'Many conversations read',
  many_patients_read: 'Many patients looked at',
  access_outside_hours: 'Access outside working hours',
  bulk_export: 'Large export',
  failed_sign_ins_account: 'Failed sign-ins to one account',
  failed_sign_ins_address: 'Failed sign-ins from one address',
  new_device: 'Sign-in from a new device',
  patient_read_outside_conversation: 'Patient looked at outside any conversation',
};

export function alertLabel(kind: string): string {
  return ALERT_LABELS[kind] ?? actionLabel(kind);
}
