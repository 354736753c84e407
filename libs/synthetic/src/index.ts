export * from './synthetic.types';
export * from './prng';
export * from './finding-renderer';
export * from './report-writer';
export * from './dicom-writer';
export * from './dataset.generator';
export * from './folder.writer';
