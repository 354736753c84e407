export * from './processing.exception';
export * from './sniff';
export * from './image-probe';
export * from './image-codec';
export * from './dicom-deidentify';
export * from './dicom-attribute-actions';
export * from './report-text';
export * from './report-redaction';
