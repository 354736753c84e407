import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { SeededRandom } from '../layers/seeded-random';
import { argMax, decodeLoop, sampleTopP } from './generation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleTopP', () => {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (logits are their logs).
  const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);

  it('draws only from the smallest set whose mass reaches topP, renormalised', () => {
    const rng = new SeededRandom(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleTopP(logits, 0.7, 1, rng)]!++;
    // Nucleus for 0.7: {0.5, 0.3} (0.5 alone is short of 0.7) -> 0.625 / 0.375.
    expect(counts[2]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[0]! / 4000).toBeGreaterThan(0.59);
    expect(counts[0]! / 4000).toBeLessThan(0.66);
  });

  it('with topP 1 keeps every token, and a low temperature concentrates on the arg-max', () => {
    const rng = new SeededRandom(2);
    const all = new Set<number>();
    for (let i = 0; i < 2000; i++) all.add(sampleTopP(logits, 1, 1, rng));
    expect([...all].sort()).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 200; i++) expect(sampleTopP(logits, 1, 0.01, rng)).toBe(0);
  });
});

describe('decodeLoop', () => {
  const logitsFor = (token: number) => tf.tensor3d([[[0, 0, 0, 0].map((_, i) => (i === token ? 5 : 0))]]);

  it('feeds each chosen token back, stops at EOS and never emits a suppressed token', () => {
    const fed: number[] = [];
    // The "model" always prefers (last + 1) mod 4.
    const out = decodeLoop(
      () => logitsFor(1),
      (t) => {
        fed.push(t);
        return logitsFor((t + 1) % 4);
      },
      { maxNewTokens: 10, eosId: 0, suppressTokens: [3] },
    );
    // 1, 2, then 3 is suppressed: the logits tie at 0 and the lowest id (0 = EOS) wins.
    expect(out).toEqual([1, 2, 0]);
    expect(fed).toEqual([1, 2]);
  });

  it('stops at maxNewTokens and disposes every logits tensor', () => {
    const before = tf.memory().numTensors;
    expect(
      decodeLoop(
        () => logitsFor(1),
        (t) => logitsFor((t + 1) % 4),
        { maxNewTokens: 5 },
      ),
    ).toEqual([1, 2, 3, 0, 1]);
    expect(tf.memory().numTensors).toBe(before);
    expect(argMax([1, 3, 3])).toBe(1);
  });
});
