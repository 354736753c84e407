/** The object storage the lineage reads artifacts from and keeps imported OpenLineage events in (the platform's shared one, or its own). */
export const LINEAGE_STORAGE = Symbol('LINEAGE_STORAGE');
