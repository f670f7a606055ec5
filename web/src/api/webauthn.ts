// Passkeys in the browser: the server speaks WebAuthn's JSON form (binary fields as base64url
// strings), navigator.credentials speaks ArrayBuffers. These functions convert both ways, so the
// app does not depend on PublicKeyCredential.parse*FromJSON / toJSON, which older browsers lack.

import type { PublicKeyJSON } from './types';

/** base64url (RFC 4648 §5, padding optional) to bytes. Throws on characters outside the alphabet. */
export function base64urlToBytes(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) throw new Error('not base64url');
  const b64 = s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes (an ArrayBuffer or a view of one) to base64url without padding. */
export function bytesToBase64url(data: ArrayBuffer | ArrayBufferView): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

type Descriptor = { type?: string; id: string; transports?: string[] };

function descriptors(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as Descriptor[]).map((d) => ({
    type: 'public-key',
    id: base64urlToBytes(d.id),
    ...(d.transports ? { transports: d.transports as AuthenticatorTransport[] } : {}),
  }));
}

/** The server's creation options (JSON form) as navigator.credentials.create() takes them. */
export function creationOptionsFromJSON(o: PublicKeyJSON): PublicKeyCredentialCreationOptions {
  const user = o.user as { id: string; name: string; displayName: string };
  const out = {
    ...o,
    challenge: base64urlToBytes(o.challenge as string),
    user: { ...user, id: base64urlToBytes(user.id) },
  } as unknown as PublicKeyCredentialCreationOptions;
  const exclude = descriptors(o.excludeCredentials);
  if (exclude) out.excludeCredentials = exclude;
  else delete (out as { excludeCredentials?: unknown }).excludeCredentials;
  return out;
}

/** The server's request options (JSON form) as navigator.credentials.get() takes them. */
export function requestOptionsFromJSON(o: PublicKeyJSON): PublicKeyCredentialRequestOptions {
  const out = { ...o, challenge: base64urlToBytes(o.challenge as string) } as unknown as PublicKeyCredentialRequestOptions;
  const allow = descriptors(o.allowCredentials);
  if (allow) out.allowCredentials = allow;
  else delete (out as { allowCredentials?: unknown }).allowCredentials;
  return out;
}

/** The credential the browser made or used, in the JSON form the server reads (PublicKeyCredential.toJSON()). */
export function credentialToJSON(cred: PublicKeyCredential): Record<string, unknown> {
  const r = cred.response as AuthenticatorResponse & Partial<AuthenticatorAttestationResponse> & Partial<AuthenticatorAssertionResponse>;
  const response: Record<string, unknown> = { clientDataJSON: bytesToBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bytesToBase64url(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    if (r.authenticatorData) response.authenticatorData = bytesToBase64url(r.authenticatorData);
    if (r.signature) response.signature = bytesToBase64url(r.signature);
    response.userHandle = r.userHandle ? bytesToBase64url(r.userHandle) : null;
  }
  return {
    id: cred.id,
    rawId: bytesToBase64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? null,
    clientExtensionResults: typeof cred.getClientExtensionResults === 'function' ? cred.getClientExtensionResults() : {},
    response,
  };
}

/** Whether this browser can use passkeys at all (WebAuthn needs a secure context: HTTPS or localhost). */
export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && window.isSecureContext && typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

/** Makes a new passkey with the server's creation options; answers the credential in JSON form. */
export async function createPasskey(publicKey: PublicKeyJSON): Promise<Record<string, unknown>> {
  const cred = await navigator.credentials.create({ publicKey: creationOptionsFromJSON(publicKey) });
  if (!cred) throw new DOMException('no credential', 'NotAllowedError');
  return credentialToJSON(cred as PublicKeyCredential);
}

/** Uses a passkey to answer the server's request options; answers the assertion in JSON form. */
export async function usePasskey(publicKey: PublicKeyJSON): Promise<Record<string, unknown>> {
  const cred = await navigator.credentials.get({ publicKey: requestOptionsFromJSON(publicKey) });
  if (!cred) throw new DOMException('no credential', 'NotAllowedError');
  return credentialToJSON(cred as PublicKeyCredential);
}

/** What to tell a person when the browser's passkey prompt did not work. */
export function passkeyErrorText(e: unknown): string {
  const name = e instanceof DOMException || e instanceof Error ? e.name : '';
  switch (name) {
    case 'NotAllowedError':
      return 'The passkey was not used. The request was cancelled or timed out. Try again';
    case 'InvalidStateError':
      return 'This device already has a passkey for your account';
    case 'SecurityError':
      return 'Passkeys cannot be used on this address of Wardline. Open Wardline at its usual address and try again';
    case 'NotSupportedError':
      return 'This browser or device cannot make a passkey';
    default:
      return 'The passkey did not work. Try again';
  }
}

/** A DOMException or similar from navigator.credentials, as opposed to an ApiError. */
export function isBrowserCredentialError(e: unknown): boolean {
  return e instanceof DOMException || (e instanceof Error && ['NotAllowedError', 'InvalidStateError', 'SecurityError', 'NotSupportedError', 'AbortError'].includes(e.name));
}
