import { parentPort } from 'node:worker_threads';
import { processAsset, ProcessingLimits, ProcessingSubject } from './asset-processor';
import { AssetValidationError } from './processing';

/** Runs processAsset off the main thread (see ProcessingPool). */
parentPort?.on('message', async (m: { id: number; bytes: Uint8Array; declaredMimeType: string; limits: ProcessingLimits; subject: ProcessingSubject }) => {
  try {
    const result = await processAsset(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength), m.declaredMimeType, m.limits, m.subject);
    const transfer = [result.curated.bytes, result.derivative, result.deidentifiedDicom]
      .filter((b): b is Buffer => b !== null && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength)
      .map((b) => b.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: m.id, ok: true, result }, [...new Set(transfer)]);
  } catch (err) {
    if (err instanceof AssetValidationError) parentPort!.postMessage({ id: m.id, ok: false, validation: { code: err.code, message: err.message } });
    else parentPort!.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
