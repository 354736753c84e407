/*
 * The sum of a contiguous float32 vector in the order PyTorch's CPU kernel takes it
 * (aten/src/ATen/native/cpu/SumKernel.cpp, cascade_sum), so that statistics bitsandbytes takes
 * with torch (the NF4 double-quantization offset, absmax.mean()) come out to the same bit; a
 * float64 sum rounded once differs by a float32 step for about half of all inputs.
 *
 * torch accumulates in float32: vectors of `lanes` floats (8 on AVX2 machines, 16 with AVX-512)
 * summed four interleaved rows at a time through a cascade of partial sums (16 steps per level,
 * more for long rows), the elements after the last whole vector added one by one, then the
 * lanes in order. Checked against torch 2.15 on one thread; above 32,768 elements torch splits
 * the sum across its threads, so the order then depends on their number.
 */

const ILP = 4;
const NUM_LEVELS = 4;

function ceilLog2(x: number): number {
  return x <= 1 ? 0 : Math.ceil(Math.log2(x));
}

/** Sums `size` items of `width` floats (item i, lane k at data[start + i * stride + k]) as torch's multi_row_sum does for ILP rows. */
function multiRowSum(data: Float32Array, start: number, stride: number, width: number, size: number): Float32Array[] {
  const levelPower = Math.max(4, Math.floor(ceilLog2(size) / NUM_LEVELS));
  const levelStep = 2 ** levelPower;
  const levelMask = levelStep - 1;
  const acc = Array.from({ length: NUM_LEVELS }, () => Array.from({ length: ILP }, () => new Float32Array(width)));
  const add = (into: Float32Array, offset: number): void => {
    for (let l = 0; l < width; l++) into[l] += data[offset + l];
  };
  let i = 0;
  for (; i + levelStep <= size;) {
    for (let j = 0; j < levelStep; j++, i++) for (let k = 0; k < ILP; k++) add(acc[0][k], start + (i * ILP + k) * stride);
    for (let j = 1; j < NUM_LEVELS; j++) {
      for (let k = 0; k < ILP; k++) {
        for (let l = 0; l < width; l++) acc[j][k][l] += acc[j - 1][k][l];
        acc[j - 1][k].fill(0);
      }
      if ((i & (levelMask * 2 ** (j * levelPower))) !== 0) break;
    }
  }
  for (; i < size; i++) for (let k = 0; k < ILP; k++) add(acc[0][k], start + (i * ILP + k) * stride);
  for (let j = 1; j < NUM_LEVELS; j++) for (let k = 0; k < ILP; k++) for (let l = 0; l < width; l++) acc[0][k][l] += acc[j][k][l];
  return acc[0];
}

/** torch's row_sum: `size` items of `width` floats, ILP rows at a time, the leftover items into the first. */
function rowSum(data: Float32Array, width: number, size: number): Float32Array {
  const sizeIlp = Math.floor(size / ILP);
  const partial = multiRowSum(data, 0, width, width, sizeIlp);
  for (let i = sizeIlp * ILP; i < size; i++) for (let l = 0; l < width; l++) partial[0][l] += data[i * width + l];
  for (let k = 1; k < ILP; k++) for (let l = 0; l < width; l++) partial[0][l] += partial[k][l];
  return partial[0];
}

/** torch.sum of a contiguous float32 vector on the CPU (one thread), as a float32 value. */
export function torchFloat32Sum(values: Float32Array, lanes = 8): number {
  const n = values.length;
  if (n < lanes) return rowSum(values, 1, n)[0];
  const vectors = Math.floor(n / lanes);
  const vectorSum = rowSum(values, lanes, vectors);
  const total = new Float32Array(1);
  for (let i = vectors * lanes; i < n; i++) total[0] += values[i];
  for (let l = 0; l < lanes; l++) total[0] += vectorSum[l];
  return total[0];
}
