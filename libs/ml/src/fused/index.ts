export { fusedOpsEnabled, rmsNorm, rotary, scaledMaskedSoftmax, setFusedOps, softmaxCrossEntropy, swiGlu } from './fused-ops';
export { FusedKernel, type FusedKernelName } from './fused-kernel-names';
