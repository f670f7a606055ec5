// Checking the audit log's tamper evidence in the browser: the RFC 6962 / RFC 9162 consistency
// proof that an earlier checkpoint's tree is a prefix of a later one (the log only grew), and the
// Ed25519 signature of a checkpoint's signed note (C2SP signed-note, tlog-checkpoint). Nothing is
// taken on trust from the server's own "ok": the hashes are recomputed here.

/** Bytes backed by a plain ArrayBuffer, as WebCrypto takes them. */
export type Bytes = Uint8Array<ArrayBuffer>;

export type Sha256 = (data: Bytes) => Promise<Bytes>;

export const webSha256: Sha256 = async (data) => new Uint8Array(await crypto.subtle.digest('SHA-256', data));

export function b64ToBytes(s: string): Bytes {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToHex(b: Bytes): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function equal(a: Bytes, b: Bytes): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function node(sha: Sha256, left: Bytes, right: Bytes): Promise<Bytes> {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha(buf);
}

/**
 * RFC 9162 section 2.1.4.2: does `proof` show that the tree of size1 with root1 is a prefix of
 * the tree of size2 with root2? Sizes are entry counts; roots and proof hashes are raw bytes.
 */
export async function verifyConsistency(sha: Sha256, size1: number, size2: number, root1: Bytes, root2: Bytes, proof: Bytes[]): Promise<boolean> {
  if (size1 < 1 || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (proof.length === 0) return false;
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      fr = await node(sha, c, fr);
      sr = await node(sha, c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = await node(sha, sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return equal(fr, root1) && equal(sr, root2) && sn === 0;
}

export type SignatureCheck = 'valid' | 'invalid' | 'unsupported';

/**
 * Checks a checkpoint's signed note against a verifier key ("<origin>+<key hash hex>+<base64 of
 * 0x01 and the Ed25519 public key>"), and that the note says the given size and root. A browser
 * without Ed25519 in WebCrypto answers "unsupported".
 */
export async function verifySignedNote(note: string, verifierKey: string, size: number, rootB64: string): Promise<SignatureCheck> {
  // The origin and the key hash hold no '+'; the base64 key may (so split at the first two only).
  const a = verifierKey.indexOf('+');
  const b = verifierKey.indexOf('+', a + 1);
  if (a <= 0 || b <= a + 1) return 'invalid';
  const origin = verifierKey.slice(0, a);
  const keyHash = verifierKey.slice(a + 1, b);
  const keyB64 = verifierKey.slice(b + 1);
  const key = b64ToBytes(keyB64);
  if (key.length !== 33 || key[0] !== 0x01) return 'invalid';
  const split = note.indexOf('\n\n');
  if (split < 0) return 'invalid';
  const body = note.slice(0, split + 1);
  const lines = body.split('\n');
  if (lines[0] !== origin || lines[1] !== String(size) || lines[2] !== rootB64) return 'invalid';
  const sigLine = note
    .slice(split + 2)
    .split('\n')
    .find((l) => l.startsWith(`\u2014 ${origin} `));
  if (!sigLine) return 'invalid';
  const sig = b64ToBytes(sigLine.slice(`\u2014 ${origin} `.length));
  if (sig.length !== 68 || bytesToHex(sig.slice(0, 4)) !== keyHash.toLowerCase()) return 'invalid';
  let pub: CryptoKey;
  try {
    pub = await crypto.subtle.importKey('raw', key.slice(1), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return 'unsupported';
  }
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.slice(4), new TextEncoder().encode(body));
  return ok ? 'valid' : 'invalid';
}
