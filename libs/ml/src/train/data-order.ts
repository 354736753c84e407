import { SeededRandom } from '../layers/seeded-random';
import { TrainingErrorCode, TrainingException } from './training.exception';

/**
 * Seeded, resumable order over a data set: each epoch is a Fisher-Yates shuffle drawn from a
 * PRNG seeded by (seed, epoch), so the whole state is { epoch, cursor } and a resumed run sees
 * exactly the batches an uninterrupted one would.
 */
export interface DataOrderState {
  seed: number;
  epoch: number;
  cursor: number;
}

export function epochPermutation(size: number, seed: number, epoch: number): number[] {
  const rng = new SeededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export class DataOrder {
  private order: number[];
  private state: DataOrderState;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isInteger(size) || size <= 0) {
      throw new TrainingException(TrainingErrorCode.InvalidInput, `DataOrder: the data set is empty (size ${size})`, ['data']);
    }
    this.state = { seed, epoch: 0, cursor: 0 };
    this.order = epochPermutation(size, seed, 0);
  }

  /** Up to batchSize indices; a batch never spans two epochs (the last one of an epoch may be short). */
  next(batchSize: number): number[] {
    if (this.state.cursor >= this.size) {
      this.state = { ...this.state, epoch: this.state.epoch + 1, cursor: 0 };
      this.order = epochPermutation(this.size, this.state.seed, this.state.epoch);
    }
    const batch = this.order.slice(this.state.cursor, this.state.cursor + batchSize);
    this.state = { ...this.state, cursor: this.state.cursor + batch.length };
    return batch;
  }

  getState(): DataOrderState {
    return { ...this.state };
  }

  setState(s: DataOrderState): void {
    if (!Number.isInteger(s.epoch) || s.epoch < 0 || !Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor > this.size) {
      // Only a checkpoint hands us a state, so a bad one means the checkpoint is not for this data.
      const message = `DataOrder: invalid state ${JSON.stringify(s)} for a data set of ${this.size}`;
      throw new TrainingException(TrainingErrorCode.CheckpointIncompatible, message, ['dataOrder']);
    }
    this.state = { ...s };
    this.order = epochPermutation(this.size, s.seed, s.epoch);
  }
}
