// Pure: the HIPAA Safe Harbor redactor, shared by ingestion (reports) and every service that
// puts free text into an event (refused when the redactor finds anything). No Nest, no I/O.
export * from './report-redaction';
export * from './personal-data';
