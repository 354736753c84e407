import * as tf from '@tensorflow/tfjs-core';
import { scaledMaskedSoftmax } from '../fused/fused-ops';
import { LayerErrorCode, LayerException } from './layer.exception';
import type { LinearLike } from './linear';
import { applyRotary } from './rotary-embedding';

export interface AttentionProjections {
  q: LinearLike;
  k: LinearLike;
  v: LinearLike;
  o: LinearLike;
}

export interface AttentionOptions {
  numHeads: number;
  /** < numHeads for grouped-query attention; each key/value head serves numHeads/numKeyValueHeads query heads. */
  numKeyValueHeads: number;
  headDim: number;
  /** cos/sin [T, headDim] for the new positions; omitted for the ViT (learned absolute positions). */
  rotary?: { cos: tf.Tensor; sin: tf.Tensor };
  /** Additive mask [T, pastLength + T]; omitted for bidirectional (ViT) attention. */
  mask?: tf.Tensor;
  /** Keys/values of earlier positions [B, numKeyValueHeads, pastLength, headDim], before repeat_kv. */
  past?: { key: tf.Tensor; value: tf.Tensor };
}

export interface AttentionResult {
  output: tf.Tensor;
  /** All keys/values so far [B, numKeyValueHeads, pastLength + T, headDim], for the KV cache. */
  key: tf.Tensor;
  value: tf.Tensor;
}

/**
 * HF repeat_kv: [B, Hkv, T, D] -> [B, Hkv·nRep, T, D], each key/value head repeated nRep
 * times consecutively (query head h uses key/value head floor(h / nRep)).
 */
export function repeatKv(x: tf.Tensor, nRep: number): tf.Tensor {
  if (nRep === 1) return x.clone();
  return tf.tidy(() => {
    const [b, hkv, t, d] = x.shape;
    // Tiled as rank 3: tfjs has no Tile gradient above rank 4.
    const flat = tf.reshape(x, [b! * hkv!, 1, t! * d!]);
    return tf.reshape(tf.tile(flat, [1, nRep, 1]), [b!, hkv! * nRep, t!, d!]);
  });
}

function splitHeads(x: tf.Tensor, heads: number, headDim: number): tf.Tensor {
  const [b, t] = x.shape;
  return tf.transpose(tf.reshape(x, [b, t, heads, headDim]), [0, 2, 1, 3]);
}

/**
 * Multi-head / grouped-query scaled dot-product attention on x [B, T, hidden], with the
 * projections passed in (the model looks them up by name each call, so a LoRA wrapper that
 * replaced one takes effect).
 */
export function attention(x: tf.Tensor, projections: AttentionProjections, options: AttentionOptions): AttentionResult {
  const { numHeads, numKeyValueHeads, headDim } = options;
  if (numHeads % numKeyValueHeads !== 0) {
    const message = `attention: numHeads (${numHeads}) must be a multiple of numKeyValueHeads (${numKeyValueHeads})`;
    throw new LayerException(LayerErrorCode.InvalidConfig, message, ['numKeyValueHeads']);
  }
  if (x.rank !== 3) throw new LayerException(LayerErrorCode.InvalidInput, `attention: expected input [B, T, hidden], got shape [${x.shape.join(', ')}]`, ['x']);
  return tf.tidy(() => {
    const [b, t] = x.shape;
    let q = splitHeads(projections.q.apply(x), numHeads, headDim);
    let k = splitHeads(projections.k.apply(x), numKeyValueHeads, headDim);
    let v = splitHeads(projections.v.apply(x), numKeyValueHeads, headDim);
    if (options.rotary) {
      q = applyRotary(q, options.rotary.cos, options.rotary.sin);
      k = applyRotary(k, options.rotary.cos, options.rotary.sin);
    }
    if (options.past) {
      k = tf.concat([options.past.key, k], 2);
      v = tf.concat([options.past.value, v], 2);
    }
    const nRep = numHeads / numKeyValueHeads;
    const kFull = repeatKv(k, nRep);
    const vFull = repeatKv(v, nRep);
    const probs = scaledMaskedSoftmax(tf.matMul(q, kFull, false, true), 1 / Math.sqrt(headDim), options.mask);
    const context = tf.reshape(tf.transpose(tf.matMul(probs, vFull), [0, 2, 1, 3]), [b, t, numHeads * headDim]);
    return { output: projections.o.apply(context), key: k, value: v };
  });
}
