import type { Actor } from '@trellis/contracts';

/** Events the service emits on its own behalf (tasks from a dataset version, cancellations on consent). */
export const ANNOTATION_SERVICE_ACTOR: Actor = { id: 'annotation-service', role: 'service' };
