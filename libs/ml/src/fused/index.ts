export { adamWUpdate, fusedOpsEnabled, rmsNorm, rotary, scaledMaskedSoftmax, setFusedOps, softmaxCrossEntropy, swiGlu } from './fused-ops';
export { type AdamWConstants, FusedKernel, type FusedKernelName } from './fused-kernel-names';
