import * as tf from '@tensorflow/tfjs-core';

/**
 * Keys and values of the positions processed so far, per decoder layer, each
 * [B, numKeyValueHeads, length, headDim] (stored before repeat_kv, so grouped-query
 * attention keeps its memory saving). The cache owns its tensors.
 */
export class KvCache {
  private entries: ({ key: tf.Tensor; value: tf.Tensor } | null)[];

  constructor(readonly numLayers: number) {
    this.entries = new Array(numLayers).fill(null);
  }

  get length(): number {
    const first = this.entries[0];
    return first ? first.key.shape[2]! : 0;
  }

  layer(index: number): { key: tf.Tensor; value: tf.Tensor } | undefined {
    return this.entries[index] ?? undefined;
  }

  /** Takes ownership of key/value (keeps them out of any enclosing tidy) and frees the previous ones. */
  update(index: number, key: tf.Tensor, value: tf.Tensor): void {
    const previous = this.entries[index];
    this.entries[index] = { key: tf.keep(key), value: tf.keep(value) };
    if (previous) {
      previous.key.dispose();
      previous.value.dispose();
    }
  }

  dispose(): void {
    for (const e of this.entries) {
      e?.key.dispose();
      e?.value.dispose();
    }
    this.entries = new Array(this.numLayers).fill(null);
  }
}
