/** Object storage as annotation uses it: the host's OBJECT_STORAGE when there is one, else its own. */
export const ANNOTATION_STORAGE = Symbol('ANNOTATION_STORAGE');
