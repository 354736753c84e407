import { Worker } from 'node:worker_threads';
import { merkleRootOfLeafHashes } from '@trellis/contracts';
import { splitLeaves } from './snapshot';

/**
 * From this many leaves the root is taken on a worker thread. Below it the hashes cost less than
 * starting a worker (some tens of milliseconds); above it a freeze's main thread has the items to
 * place and write meanwhile (100,000 leaves take 0.1 to 0.15 s of hashing).
 */
export const WORKER_MIN_LEAVES = 8192;

/**
 * The worker, as plain JavaScript run with `eval`, so that it runs alike under ts-node, jest and
 * the compiled build without a file of its own to find. It takes the leaves in pieces, as the
 * caller writes them, and keeps the perfect subtrees they make so far, largest first (the binary
 * digits of their count): a leaf joins the last subtree of its size, and so on up. Once told
 * there are no more, it folds them from the right, which is RFC 6962's split at the largest power
 * of two below the count, applied all the way down. Hashing 0x01 || left || right goes through
 * one scratch buffer. The unit test holds its roots equal to merkleRootOfLeafHashes.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash, hash } = require('node:crypto');
const sha256 = (data) => (typeof hash === 'function' ? hash('sha256', data, 'buffer') : createHash('sha256').update(data).digest());
const scratch = Buffer.alloc(65);
scratch[0] = 1;
const node = (left, right) => {
  left.copy(scratch, 1);
  right.copy(scratch, 33);
  return sha256(scratch);
};
const subtrees = [];
let count = 0;
const onMessage = (piece) => {
  if (piece !== null) {
    const leaves = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let o = 0; o < leaves.length; o += 32) {
      let top = leaves.subarray(o, o + 32);
      for (let c = count; c & 1; c >>= 1) top = node(subtrees.pop(), top);
      subtrees.push(top);
      count++;
    }
    return;
  }
  let root = subtrees.length === 0 ? sha256(Buffer.alloc(0)) : subtrees[subtrees.length - 1];
  for (let i = subtrees.length - 2; i >= 0; i--) root = node(subtrees[i], root);
  parentPort.postMessage(root.toString('hex'));
  parentPort.off('message', onMessage);
};
parentPort.on('message', onMessage);
`;

/**
 * A root worker thread, started before its leaves are known so that its start-up (some tens of
 * milliseconds) overlaps the caller's reading, and given them piece by piece as they are written
 * so that the hashing overlaps the writing: once the last piece is in, the root is a few hashes
 * away.
 */
export class MerkleRootWorker {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly answer: Promise<string>;
  private ended = false;

  constructor() {
    this.answer = new Promise((resolve, reject) => {
      // The worker ends by itself once it has answered; a settled promise ignores the rest.
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the Merkle root worker exited with code ${code} before answering`)));
    });
    // Read through root(); a worker stopped unused rejects here and nobody waits for it.
    this.answer.catch(() => undefined);
  }

  /** The next leaves, in order (whole 32-byte hashes); copied, so the caller may keep using them. */
  add(leaves: Buffer): void {
    if (this.ended) throw new Error('the Merkle root worker has had its last leaves');
    if (leaves.length % 32 !== 0) throw new RangeError(`leaf hashes are 32 bytes each; got ${leaves.length} bytes`);
    if (leaves.length > 0) this.worker.postMessage(new Uint8Array(leaves));
  }

  /** The root over every leaf added, as lowercase hex; no leaves may follow. */
  root(): Promise<string> {
    if (!this.ended) {
      this.ended = true;
      this.worker.postMessage(null);
    }
    return this.answer;
  }

  /** Ends the worker without a root (the freeze failed, or had too few leaves to need it). */
  stop(): void {
    this.ended = true;
    void this.worker.terminate();
  }
}

/**
 * The RFC 6962 root over leaf hashes given as one buffer of 32-byte hashes, as lowercase hex:
 * merkleRootOfLeafHashes, taken on a worker thread when there are many (`worker`, started
 * earlier, or one started now), so the caller's thread is free meanwhile. The buffer is copied
 * to the worker, so the caller may keep using it. A worker given but not needed is stopped.
 */
export function merkleRootOfLeafBuffer(leaves: Buffer, workerMinLeaves = WORKER_MIN_LEAVES, worker?: MerkleRootWorker): Promise<string> {
  if (leaves.length % 32 !== 0) {
    worker?.stop();
    return Promise.reject(new RangeError(`leaf hashes are 32 bytes each; got ${leaves.length} bytes`));
  }
  const count = leaves.length / 32;
  if (count < Math.max(2, workerMinLeaves)) {
    worker?.stop();
    return Promise.resolve(merkleRootOfLeafHashes(splitLeaves(leaves)));
  }
  const w = worker ?? new MerkleRootWorker();
  w.add(leaves);
  return w.root();
}
