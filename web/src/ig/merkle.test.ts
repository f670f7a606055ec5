import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Bytes, b64ToBytes, verifyConsistency, verifySignedNote } from './merkle';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const sha = async (d: Bytes): Promise<Bytes> => new Uint8Array(await subtle.digest('SHA-256', d));
const cat = (...parts: (number[] | Bytes)[]): Bytes => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
};

// RFC 6962 section 2.1: the tree hash and the consistency proof, written out naively.
const leaf = (i: number) => sha(cat([0], new TextEncoder().encode(`entry ${i}`)));
const split = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
async function mth(leaves: Bytes[]): Promise<Bytes> {
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return sha(cat([1], await mth(leaves.slice(0, k)), await mth(leaves.slice(k))));
}
async function subproof(m: number, d: Bytes[], b: boolean): Promise<Bytes[]> {
  const n = d.length;
  if (m === n) return b ? [] : [await mth(d)];
  const k = split(n);
  if (m <= k) return [...(await subproof(m, d.slice(0, k), b)), await mth(d.slice(k))];
  return [...(await subproof(m - k, d.slice(k), false)), await mth(d.slice(0, k))];
}

describe('consistency proofs', () => {
  it('accepts every true prefix of a 13-entry log and refuses altered ones', async () => {
    const leaves = await Promise.all(Array.from({ length: 13 }, (_, i) => leaf(i)));
    for (let n = 1; n <= 13; n++) {
      const root2 = await mth(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const root1 = await mth(leaves.slice(0, m));
        const proof = m === n ? [] : await subproof(m, leaves.slice(0, n), true);
        expect(await verifyConsistency(sha, m, n, root1, root2, proof), `${m} → ${n}`).toBe(true);
        if (m < n) {
          // A rewritten history: the old root no longer matches.
          const forged = await mth([await leaf(99), ...leaves.slice(1, m)]);
          expect(await verifyConsistency(sha, m, n, forged, root2, proof), `forged ${m} → ${n}`).toBe(false);
          const bent = proof.map((h, i) => (i === 0 ? cat(h.slice(0, 31), [h[31]! ^ 1]) : h));
          expect(await verifyConsistency(sha, m, n, root1, root2, bent), `bent ${m} → ${n}`).toBe(false);
        }
      }
    }
  });

  it('refuses nonsense sizes', async () => {
    const r = await leaf(0);
    expect(await verifyConsistency(sha, 0, 1, r, r, [])).toBe(false);
    expect(await verifyConsistency(sha, 2, 1, r, r, [])).toBe(false);
    expect(await verifyConsistency(sha, 1, 2, r, r, [])).toBe(false);
  });
});

describe('signed notes', () => {
  // Many keys: the base64 of about half of them holds a '+', which must not split the verifier key.
  it.each(Array.from({ length: 16 }, (_, i) => i))('verifies an Ed25519 checkpoint note and refuses a changed one (key %i)', async () => {
    const pair = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const pub = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
    const origin = 'wardline.test/audit';
    const keyHash = (await sha(cat(new TextEncoder().encode(origin), [0x0a, 0x01], pub))).slice(0, 4);
    const hex = [...keyHash].map((x) => x.toString(16).padStart(2, '0')).join('');
    const verifier = `${origin}+${hex}+${btoa(String.fromCharCode(1, ...pub))}`;
    const root = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
    const body = `${origin}\n42\n${root}\ntime 2026-01-15T10:00:00.000000Z\n`;
    const sig = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, pair.privateKey, new TextEncoder().encode(body)));
    const note = `${body}\n\u2014 ${origin} ${btoa(String.fromCharCode(...keyHash, ...sig))}\n`;
    expect(await verifySignedNote(note, verifier, 42, root)).toBe('valid');
    expect(await verifySignedNote(note.replace('\n42\n', '\n43\n'), verifier, 43, root)).toBe('invalid');
    expect(await verifySignedNote(note, verifier, 41, root)).toBe('invalid');
    expect(b64ToBytes(root)).toHaveLength(32);
  });
});

// Proofs made by the server's own Go package (wardline/audit: NewTree, ConsistencyProof) over the
// leaves SHA-256(0x00 || "entry i"), i = 0..20, written out once as JSON: the browser's check
// agrees with what the server actually sends.
import fixture from './consistency-fixture.json';

describe('consistency proofs from the server’s audit package', () => {
  it.each(fixture.map((f) => [f.From, f.To, f] as const))('%i → %i verifies, and not against another root', async (_from, _to, f) => {
    const proof = (f.Proof ?? []).map(b64ToBytes);
    expect(await verifyConsistency(sha, f.From, f.To, b64ToBytes(f.Root1), b64ToBytes(f.Root2), proof)).toBe(true);
    expect(await verifyConsistency(sha, f.From, f.To, b64ToBytes(f.Root2), b64ToBytes(f.Root2), proof)).toBe(false);
  });
});
