import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { dataDirFromEnv, intFromEnv, loadOrCreateSecret } from '@trellis/common';
import type { UploadGateLimits } from './assets/upload-gate';

export interface IngestionConfig {
  /** Largest upload accepted, in bytes (multipart limit and validation limit). */
  maxBytes: number;
  /** Largest image accepted, in pixels (width x height), checked from the header before decoding. */
  maxPixels: number;
  /** An upload intent older than this is an upload that died: completed or cleaned up. */
  intentGraceMs: number;
  /** How often recovery runs while the service is up (0: only at start-up). */
  recoveryIntervalMs: number;
  /** Key for re-mapping DICOM UIDs consistently (HMAC); must stay the same across restarts. */
  dicomUidKey: string;
  /**
   * Worker threads for decoding, de-identification and redaction; 0 runs them on the main thread,
   * where a large report or image holds up every other request while it is processed.
   */
  workers: number;
  /** Uploads processed at once; 0: half the database pool (each holds at most one connection at a time). */
  maxConcurrentUploads: number;
  /** Uploads waiting for a turn; 0: four times the uploads at once. Beyond it, 503 with Retry-After. */
  maxQueuedUploads: number;
  /** A queued upload not started within this long gets 503 with Retry-After. */
  uploadQueueTimeoutMs: number;
}

/** The upload limit alone: the multipart interceptor needs it when its decorator is evaluated, before any key file is touched. */
export function maxBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return intFromEnv(env, 'INGESTION_MAX_BYTES', 64 * 1024 * 1024);
}

export function ingestionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): IngestionConfig {
  return {
    maxBytes: maxBytesFromEnv(env),
    maxPixels: intFromEnv(env, 'INGESTION_MAX_PIXELS', 50_000_000),
    intentGraceMs: intFromEnv(env, 'INGESTION_INTENT_GRACE_MS', 15 * 60 * 1000, 0),
    recoveryIntervalMs: intFromEnv(env, 'INGESTION_RECOVERY_INTERVAL_MS', 5 * 60 * 1000, 0),
    dicomUidKey: env.INGESTION_DICOM_UID_KEY || localDicomUidKey(env),
    workers: intFromEnv(env, 'INGESTION_WORKERS', defaultWorkers(), 0),
    maxConcurrentUploads: intFromEnv(env, 'INGESTION_MAX_CONCURRENT_UPLOADS', 0, 0),
    maxQueuedUploads: intFromEnv(env, 'INGESTION_MAX_QUEUED_UPLOADS', 0, 0),
    uploadQueueTimeoutMs: intFromEnv(env, 'INGESTION_UPLOAD_QUEUE_TIMEOUT_MS', 30_000),
  };
}

/**
 * One core less than the machine has, at least one: processing leaves the main thread (issue 11,
 * item 3), and one core stays for HTTP, PostgreSQL and the consumers.
 */
export function defaultWorkers(cores: number = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/**
 * The upload gate's limits: by default half the database pool uploads at once, so that the other
 * half stays free for /health, reads and the consumers, and four times as many waiting.
 */
export function uploadGateLimits(config: IngestionConfig, poolSize: number): UploadGateLimits {
  const maxInFlight = config.maxConcurrentUploads || Math.max(1, Math.floor(poolSize / 2));
  return { maxInFlight, maxQueued: config.maxQueuedUploads || 4 * maxInFlight, queueTimeoutMs: config.uploadQueueTimeoutMs };
}

/**
 * Without INGESTION_DICOM_UID_KEY, a key generated once under the data directory: a key in the
 * code would let anyone who guesses an original UID confirm it. Replicas of a distributed
 * deployment must share one key (set the variable), or the same UID maps differently on each.
 */
function localDicomUidKey(env: NodeJS.ProcessEnv): string {
  const dataDir = dataDirFromEnv(env);
  return loadOrCreateSecret(join(dataDir, 'keys', 'dicom-uid.key')).toString('hex');
}
