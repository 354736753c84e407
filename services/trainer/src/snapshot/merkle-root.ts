import { Worker } from 'node:worker_threads';
import { merkleRootOfLeafHashes } from '@trellis/contracts';
import { splitLeaves } from './snapshot';

/**
 * From this many leaves the root is taken on a worker thread. Below it the hashes cost less than
 * starting a worker (some tens of milliseconds); above it a freeze's main thread has the manifest
 * to write meanwhile (100,000 leaves take about 0.15 s of hashing).
 */
export const WORKER_MIN_LEAVES = 8192;

/**
 * The worker, as plain JavaScript run with `eval`, so that it runs alike under ts-node, jest and
 * the compiled build without a file of its own to find. It walks the tree level by level like
 * merkleRootOfLeafHashes in @trellis/contracts (an odd last node carried up unchanged gives the
 * RFC 6962 split), in place in one buffer, hashing 0x01 || left || right from one scratch buffer
 * (no allocation per node). The unit test holds its roots equal to merkleRootOfLeafHashes.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash, hash } = require('node:crypto');
const sha256 = (data) => (typeof hash === 'function' ? hash('sha256', data, 'buffer') : createHash('sha256').update(data).digest());
const level = Buffer.from(workerData.buffer, workerData.byteOffset, workerData.byteLength);
const scratch = Buffer.alloc(65);
scratch[0] = 1;
let n = level.length / 32;
while (n > 1) {
  for (let i = 0; i + 1 < n; i += 2) {
    level.copy(scratch, 1, i * 32, i * 32 + 64);
    sha256(scratch).copy(level, (i / 2) * 32);
  }
  if (n % 2 === 1) level.copy(level, ((n - 1) / 2) * 32, (n - 1) * 32, n * 32);
  n = Math.ceil(n / 2);
}
parentPort.postMessage(level.subarray(0, 32).toString('hex'));
`;

/**
 * The RFC 6962 root over leaf hashes given as one buffer of 32-byte hashes, as lowercase hex:
 * merkleRootOfLeafHashes, taken on a worker thread when there are many, so the caller's thread
 * is free meanwhile. The buffer is copied to the worker, so the caller may keep using it.
 */
export function merkleRootOfLeafBuffer(leaves: Buffer, workerMinLeaves = WORKER_MIN_LEAVES): Promise<string> {
  if (leaves.length % 32 !== 0) return Promise.reject(new RangeError(`leaf hashes are 32 bytes each; got ${leaves.length} bytes`));
  const count = leaves.length / 32;
  if (count < Math.max(2, workerMinLeaves)) return Promise.resolve(merkleRootOfLeafHashes(splitLeaves(leaves)));
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: new Uint8Array(leaves) });
    // The worker ends by itself once it has answered; a settled promise ignores the rest.
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the Merkle root worker exited with code ${code} before answering`)));
  });
}
