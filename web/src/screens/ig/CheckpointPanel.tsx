// Verification status of the audit log: the latest signed checkpoint (size, time, root hash) with
// its signature checked in this browser, and "check the log only grew": a consistency proof from
// an earlier checkpoint (the first one seen this session, or one the officer recorded) to the
// latest, verified here (RFC 9162), not taken on the server's word.
import { type FormEvent, useEffect, useState } from 'react';
import { type Checkpoint, getCheckpoint, getConsistencyProof } from '../../api/audit';
import { isApiError } from '../../api/client';
import { formatTime } from '../../components/Time';
import { type SignatureCheck, b64ToBytes, verifyConsistency, verifySignedNote, webSha256 } from '../../ig/merkle';
import { useSession } from '../../state/SessionContext';
import type { Session } from '../../state/session';

// The first checkpoint this session saw: the default "earlier" one (memory only).
const firstSeen = new WeakMap<Session, Checkpoint>();

type Check = { kind: 'ok' | 'fail' | 'error'; text: string } | null;

export function CheckpointPanel() {
  const session = useSession();
  const [cp, setCp] = useState<Checkpoint | null>(null);
  const [state, setState] = useState<'loading' | 'none' | 'error' | 'ready'>('loading');
  const [signature, setSignature] = useState<SignatureCheck | null>(null);
  const [size, setSize] = useState('');
  const [root, setRoot] = useState('');
  const [check, setCheck] = useState<Check>(null);
  const [busy, setBusy] = useState(false);

  async function refresh(): Promise<Checkpoint | null> {
    try {
      const c = await getCheckpoint();
      setCp(c);
      setState('ready');
      setSignature(await verifySignedNote(c.signed_note, c.verifier_key, c.size, c.root_hash));
      if (!firstSeen.has(session)) firstSeen.set(session, c);
      return c;
    } catch (e) {
      setState(isApiError(e, 'not_found') ? 'none' : 'error');
      return null;
    }
  }

  useEffect(() => {
    void refresh().then(() => {
      const first = firstSeen.get(session);
      if (first) {
        setSize(String(first.size));
        setRoot(first.root_hash);
      }
    });
    // Once per visit: refresh() is recreated on every render.
  }, [session]);

  async function verify(e: FormEvent) {
    e.preventDefault();
    setCheck(null);
    const from = Number(size);
    if (!Number.isInteger(from) || from < 1) return setCheck({ kind: 'error', text: 'Enter the earlier checkpoint’s size: a whole number of entries' });
    let root1: Uint8Array;
    try {
      root1 = b64ToBytes(root.trim());
      if (root1.length !== 32) throw new Error('length');
    } catch {
      return setCheck({ kind: 'error', text: 'Enter the earlier checkpoint’s root hash as shown (base64, 44 characters)' });
    }
    setBusy(true);
    try {
      const latest = await refresh();
      if (!latest) return setCheck({ kind: 'error', text: 'There is no checkpoint to compare with yet' });
      if (from > latest.size) return setCheck({ kind: 'fail', text: `The latest checkpoint has ${latest.size} entries, fewer than the earlier ${from}: the log has been cut short.` });
      const proof = await getConsistencyProof(from, latest.size);
      const ok = await verifyConsistency(webSha256, from, proof.checkpoint.size, b64ToBytes(root.trim()), b64ToBytes(proof.checkpoint.root_hash), proof.proof.map(b64ToBytes));
      setCheck(
        ok
          ? {
              kind: 'ok',
              text:
                from === proof.checkpoint.size
                  ? `No new entries since the earlier checkpoint, and its root hash matches the latest.`
                  : `The log only grew: its first ${from} entries are unchanged in the latest checkpoint of ${proof.checkpoint.size} entries. The proof was checked in this browser.`,
            }
          : { kind: 'fail', text: `The proof does not match: the log of ${from} entries with that root hash is not the start of the latest log. Report this at once.` },
      );
    } catch (err) {
      setCheck({ kind: 'error', text: isApiError(err, 'not_found') ? 'The server has no signed checkpoint of that size' : 'The check could not be made. Try again' });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="app-checkpoint" aria-labelledby="checkpoint-heading">
      <h2 className="nhsuk-heading-m" id="checkpoint-heading">
        Verification status
      </h2>
      {state === 'loading' && <p>Loading the latest checkpoint…</p>}
      {state === 'none' && <p>No checkpoint has been signed yet. The server signs one every minute or so while the log grows.</p>}
      {state === 'error' && <p className="nhsuk-error-message">The checkpoint could not be loaded. Try again</p>}
      {cp && (
        <dl className="nhsuk-summary-list app-checkpoint__facts">
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Entries covered</dt>
            <dd className="nhsuk-summary-list__value" data-checkpoint-size={cp.size}>
              {cp.size.toLocaleString('en-GB')}
            </dd>
          </div>
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Signed at</dt>
            <dd className="nhsuk-summary-list__value">
              <time dateTime={cp.time}>{formatTime(cp.time)}</time>
            </dd>
          </div>
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Root hash</dt>
            <dd className="nhsuk-summary-list__value app-hash">{cp.root_hash}</dd>
          </div>
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Signature</dt>
            <dd className="nhsuk-summary-list__value">
              {signature === 'valid' && <strong className="nhsuk-tag nhsuk-tag--green app-tag-small">Valid</strong>}
              {signature === 'invalid' && <strong className="nhsuk-tag nhsuk-tag--red app-tag-small">Not valid</strong>}
              {signature === 'unsupported' && <span>This browser cannot check Ed25519 signatures</span>}{' '}
              <span className="app-muted app-hash">Key {cp.verifier_key.split('+')[1] ?? ''}</span>
            </dd>
          </div>
        </dl>
      )}
      {cp && (
        <form onSubmit={verify} noValidate className="app-consistency">
          <h3 className="nhsuk-heading-s">Check the log only grew</h3>
          <p>Compare an earlier checkpoint (the first one seen this session, or one you recorded) with the latest.</p>
          <div className="app-filters">
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="earlier-size">
                Earlier size
              </label>
              <input className="nhsuk-input nhsuk-input--width-10" id="earlier-size" inputMode="numeric" value={size} onChange={(e) => setSize(e.target.value)} />
            </div>
            <div className="nhsuk-form-group app-consistency__root">
              <label className="nhsuk-label" htmlFor="earlier-root">
                Earlier root hash
              </label>
              <input className="nhsuk-input" id="earlier-root" spellCheck={false} value={root} onChange={(e) => setRoot(e.target.value)} />
            </div>
          </div>
          <button className="nhsuk-button nhsuk-button--secondary" type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Check consistency'}
          </button>
          <div role="status" className="app-consistency__result">
            {check && <p className={`app-check app-check--${check.kind}`}>{check.text}</p>}
          </div>
        </form>
      )}
    </section>
  );
}
