// The shapes of API.md, version 1. Field names stay snake_case as on the wire.

export type OrgRole = 'member' | 'admin' | 'auditor';
export type UserStatus = 'active' | 'suspended' | 'offboarded';

export interface User {
  id: string;
  email: string;
  display_name: string;
  org_id: string;
  job_title: string;
  profession: string;
  registration: string;
  org_role: OrgRole;
  status: UserStatus;
  /** The organisation's name: on the signed-in person's own account only (GET /me, sign-in). */
  org_name?: string;
}

/** GET /me: the user, and what the session must do first (change password, enrol) or is (locked). */
export interface Me extends User {
  password_change_required?: boolean;
  mfa_enrollment_required?: boolean;
  locked?: boolean;
}

export interface LoginOK {
  token?: string; // absent for browsers (cookie sessions); the app never reads it
  expires_at: string;
  user: User;
  password_change_required?: boolean;
  mfa_enrollment_required?: boolean;
  /** The organisation's idle time before the app locks its screen. */
  lock_idle_seconds?: number;
}

export type MfaMethod = 'totp' | 'webauthn' | 'recovery_code';

export type ConversationKind = 'direct' | 'group' | 'channel';
export type MemberRole = 'owner' | 'member';

export interface Member {
  user_id: string;
  role: MemberRole;
  joined_at: string;
  /** From the directory, so that the app can name members without looking each one up. */
  display_name: string;
  job_title: string;
}

export interface Conversation {
  id: string;
  kind: ConversationKind | string; // later kinds (e.g. "role") must not break the list
  title: string;
  created_at: string;
  created_by: string;
  members: Member[];
  last_seq: number;
  unread_count: number;
  patient_id: string | null;
  /** Time of the latest message, or of creation; the list is ordered by it, newest first. */
  last_activity_at: string;
}

export type Priority = 'routine' | 'urgent' | 'emergency';

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
  body: string;
  priority: Priority;
  requires_ack: boolean;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
}

export interface MessagePage {
  items: Message[];
  has_more: boolean;
}

export interface Receipt {
  user_id: string;
  delivered_at: string | null;
  read_at: string | null;
  acked_at: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface DirectoryPerson {
  kind: 'user';
  id: string;
  display_name: string;
  job_title: string;
  profession: string;
}

// Roles arrive in the directory once they exist; the app lists them but does not act on them yet.
export interface DirectoryRole {
  kind: 'role';
  id: string;
  name: string;
}

export type DirectoryEntry = DirectoryPerson | DirectoryRole;

export interface NewStaff {
  email: string;
  display_name: string;
  job_title: string;
  profession: string;
  registration: string;
  org_role: OrgRole;
}

export interface CreatedStaff {
  user: User;
  initial_password: string;
}

export interface TotpEnrolment {
  secret: string;
  otpauth_url: string;
}

/** GET /me/security: what the account has and what the organisation asks. */
export interface Security {
  totp: boolean;
  recovery_codes_remaining: number;
  passkeys: number;
  pin: boolean;
  mfa_required: boolean;
  passwordless_allowed: boolean;
  lock_idle_seconds: number;
  locked: boolean;
}

export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** One signed-in device (a session). */
export interface DeviceSession {
  id: string;
  user_id: string;
  name: string;
  device: string;
  address: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  locked_at?: string;
  current: boolean;
}

/** The organisation's sign-in policy (GET/PATCH /admin/policy). */
export interface Policy {
  session_idle_minutes: number;
  session_absolute_minutes: number;
  login_lock_failures: number;
  login_addr_failures: number;
  login_window_minutes: number;
  login_lock_minutes: number;
  lock_idle_seconds: number;
  mfa_required: boolean;
  passwordless_allowed: boolean;
}

/** WebAuthn options in the W3C JSON form (base64url strings where the browser wants buffers). */
export type PublicKeyJSON = Record<string, unknown>;
