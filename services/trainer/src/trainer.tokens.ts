/** The object storage the trainer reads sets and images from and writes checkpoints and artifacts to. */
export const TRAINER_STORAGE = Symbol('TRAINER_STORAGE');
export const TRAINER_CONFIG = Symbol('TRAINER_CONFIG');
