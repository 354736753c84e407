import type { Actor } from '@trellis/contracts';

/** Events the trainer emits on its own behalf: snapshots, attempts, progress, outcomes. */
export const TRAINER_SERVICE_ACTOR: Actor = { id: 'trainer-service', role: 'service' };
