import { describe, expect, it } from 'vitest';
import {
  base64urlToBytes,
  bytesToBase64url,
  creationOptionsFromJSON,
  credentialToJSON,
  isBrowserCredentialError,
  passkeyErrorText,
  requestOptionsFromJSON,
} from './webauthn';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('base64url', () => {
  it('round-trips every byte value, with the URL alphabet and no padding', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const s = bytesToBase64url(all);
    expect(s).not.toMatch(/[+/=]/);
    expect([...base64urlToBytes(s)]).toEqual([...all]);
  });

  it('uses - and _ where base64 has + and /', () => {
    expect(bytesToBase64url(bytes(0xfb, 0xff))).toBe('-_8');
    expect([...base64urlToBytes('-_8')]).toEqual([0xfb, 0xff]);
  });

  it('reads input with or without padding, and lengths of every remainder', () => {
    expect([...base64urlToBytes('AQ')]).toEqual([1]);
    expect([...base64urlToBytes('AQ==')]).toEqual([1]);
    expect([...base64urlToBytes('AQI')]).toEqual([1, 2]);
    expect([...base64urlToBytes('AQID')]).toEqual([1, 2, 3]);
    expect(base64urlToBytes('').length).toBe(0);
  });

  it('refuses standard base64 characters and junk', () => {
    expect(() => base64urlToBytes('ab+/')).toThrow();
    expect(() => base64urlToBytes('a b')).toThrow();
  });

  it('encodes a view of part of a buffer, not the whole buffer', () => {
    const buf = bytes(9, 1, 2, 3, 9);
    expect(bytesToBase64url(new Uint8Array(buf.buffer, 1, 3))).toBe('AQID');
    expect(bytesToBase64url(buf.buffer)).toBe('CQECAwk');
  });
});

describe('WebAuthn options from the server', () => {
  it('turns the creation options\' challenge, user id and excluded ids into bytes and keeps the rest', () => {
    const o = creationOptionsFromJSON({
      rp: { name: 'Wardline', id: 'localhost' },
      user: { id: 'dXNlcg', name: 'ada@example.nhs.uk', displayName: 'Ada' },
      challenge: 'AQID',
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      excludeCredentials: [{ type: 'public-key', id: 'BAU', transports: ['internal'] }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      timeout: 300000,
    });
    expect([...(o.challenge as Uint8Array)]).toEqual([1, 2, 3]);
    expect(new TextDecoder().decode(o.user.id as Uint8Array)).toBe('user');
    expect(o.user.name).toBe('ada@example.nhs.uk');
    expect([...(o.excludeCredentials![0]!.id as Uint8Array)]).toEqual([4, 5]);
    expect(o.excludeCredentials![0]!.transports).toEqual(['internal']);
    expect(o.rp.id).toBe('localhost');
    expect(o.authenticatorSelection?.userVerification).toBe('required');
  });

  it('leaves out an absent allow list, so a discoverable passkey may answer', () => {
    const o = requestOptionsFromJSON({ challenge: 'AQID', rpId: 'localhost', userVerification: 'required' });
    expect('allowCredentials' in o).toBe(false);
    expect([...(o.challenge as Uint8Array)]).toEqual([1, 2, 3]);
    const withAllow = requestOptionsFromJSON({ challenge: 'AQID', allowCredentials: [{ type: 'public-key', id: 'Bw' }] });
    expect([...(withAllow.allowCredentials![0]!.id as Uint8Array)]).toEqual([7]);
  });
});

describe('the browser\'s credential, for the server', () => {
  const buf = (...b: number[]) => bytes(...b).buffer;

  it('encodes a new passkey (attestation) with its transports', () => {
    const cred = {
      id: 'AQI',
      rawId: buf(1, 2),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      getClientExtensionResults: () => ({ credProps: { rk: true } }),
      response: { clientDataJSON: buf(123), attestationObject: buf(0xa3), getTransports: () => ['internal'] },
    } as unknown as PublicKeyCredential;
    expect(credentialToJSON(cred)).toEqual({
      id: 'AQI',
      rawId: 'AQI',
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
      response: { clientDataJSON: 'ew', attestationObject: 'ow', transports: ['internal'] },
    });
  });

  it('encodes an assertion, with a null user handle when there is none', () => {
    const cred = {
      id: 'AQI',
      rawId: buf(1, 2),
      type: 'public-key',
      authenticatorAttachment: null,
      getClientExtensionResults: () => ({}),
      response: { clientDataJSON: buf(1), authenticatorData: buf(2), signature: buf(3), userHandle: null },
    } as unknown as PublicKeyCredential;
    expect(credentialToJSON(cred).response).toEqual({ clientDataJSON: 'AQ', authenticatorData: 'Ag', signature: 'Aw', userHandle: null });
  });
});

describe('passkey prompt errors', () => {
  it('says what a cancelled or refused prompt means', () => {
    expect(passkeyErrorText(new DOMException('x', 'NotAllowedError'))).toMatch(/cancelled or timed out/);
    expect(passkeyErrorText(new DOMException('x', 'InvalidStateError'))).toMatch(/already has a passkey/);
    expect(passkeyErrorText(new DOMException('x', 'SecurityError'))).toMatch(/usual address/);
    expect(isBrowserCredentialError(new DOMException('x', 'NotAllowedError'))).toBe(true);
    expect(isBrowserCredentialError(new Error('boom'))).toBe(false);
  });
});
