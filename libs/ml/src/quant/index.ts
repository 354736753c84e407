export * from './nf4-codebook';
export * from './nf4.quantizer';
export * from './quantized-linear';
export * from './quant.exception';
export * from './torch-float32-sum';
