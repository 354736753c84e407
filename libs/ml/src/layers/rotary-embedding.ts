import * as tf from '@tensorflow/tfjs-core';
import { rotary } from '../fused/fused-ops';
import { LayerErrorCode, LayerException } from './layer.exception';

export { rotateHalf } from '../fused/fused-ops';

/**
 * Rotary position embeddings in the Hugging Face Llama/Mistral convention (not the
 * interleaved GPT-J one): inv_freq[i] = 1/θ^(2i/d), angles = position ⊗ inv_freq,
 * cos/sin = [cos(angles), cos(angles)] (the two halves concatenated), and
 * x' = x·cos + rotate_half(x)·sin with rotate_half([x1, x2]) = [-x2, x1].
 * Checkpoints converted by HF permute q/k weights into this layout, so loading them needs it.
 */
export class RotaryEmbedding {
  readonly invFreq: Float64Array;

  constructor(
    readonly headDim: number,
    readonly theta: number,
  ) {
    if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
      throw new LayerException(LayerErrorCode.InvalidConfig, `RotaryEmbedding: headDim must be a positive even integer, got ${headDim}`, ['headDim']);
    }
    if (!(theta > 0)) throw new LayerException(LayerErrorCode.InvalidConfig, `RotaryEmbedding: theta must be > 0, got ${theta}`, ['theta']);
    const half = headDim / 2;
    this.invFreq = new Float64Array(half);
    // HF computes inv_freq in float32: 1 / θ^(arange(0, d, 2) / d).
    for (let i = 0; i < half; i++) this.invFreq[i] = Math.fround(1 / Math.pow(theta, (2 * i) / headDim));
  }

  /** cos and sin tables [length, headDim] for positions offset .. offset+length-1 (offset = KV-cache length). */
  cosSin(length: number, offset = 0): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const d = this.headDim;
    const cos = new Float32Array(length * d);
    const sin = new Float32Array(length * d);
    for (let t = 0; t < length; t++) this.fillRow(cos, sin, t * d, offset + t);
    return { cos: tf.tensor2d(cos, [length, d]), sin: tf.tensor2d(sin, [length, d]) };
  }

  /** cos and sin tables [B, 1, T, headDim] for per-row positions [B][T] (a left-padded batch). */
  cosSinAt(positions: readonly (readonly number[])[]): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
    const d = this.headDim;
    const batch = positions.length;
    const length = positions[0]?.length ?? 0;
    const cos = new Float32Array(batch * length * d);
    const sin = new Float32Array(batch * length * d);
    positions.forEach((row, b) => row.forEach((position, t) => this.fillRow(cos, sin, (b * length + t) * d, position)));
    return { cos: tf.tensor4d(cos, [batch, 1, length, d]), sin: tf.tensor4d(sin, [batch, 1, length, d]) };
  }

  /** cos/sin of one position at `at`: angles in float32 as transformers computes them. */
  private fillRow(cos: Float32Array, sin: Float32Array, at: number, position: number): void {
    const half = this.headDim / 2;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(position * this.invFreq[i]);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[at + i] = c;
      cos[at + half + i] = c;
      sin[at + i] = s;
      sin[at + half + i] = s;
    }
  }
}

/** Applies the rotation to x [..., T, headDim] with cos/sin [T, headDim] (broadcast over leading dims) or [B, 1, T, headDim]. */
export function applyRotary(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  return rotary(x, cos, sin);
}
