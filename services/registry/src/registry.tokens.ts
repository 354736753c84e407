/** The object storage the registry reads artifacts, sets and manifests from and writes predictions to. */
export const REGISTRY_STORAGE = Symbol('REGISTRY_STORAGE');
export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');
