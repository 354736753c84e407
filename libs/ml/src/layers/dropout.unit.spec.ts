import * as tf from '@tensorflow/tfjs-core';
import { expectException } from '../expect-exception.fixture';
import { dropoutMask, seededDropout } from './dropout';
import { LayerErrorCode, LayerException } from './layer.exception';

describe('dropoutMask', () => {
  it('drops about rate of the elements and scales the rest by 1 / (1 - rate)', () => {
    for (const rate of [0.05, 0.1, 0.5]) {
      const n = 200_000;
      const mask = dropoutMask(n, rate, 17);
      const scale = Math.fround(1 / Math.fround(1 - rate));
      let dropped = 0;
      for (const v of mask) {
        if (v === 0) dropped++;
        else expect(v).toBe(scale);
      }
      // Binomial: 5 standard deviations either side.
      const sd = Math.sqrt(n * rate * (1 - rate));
      expect(Math.abs(dropped - n * rate)).toBeLessThan(5 * sd);
    }
  });

  it('is the same for the same seed, another for another seed, and has no short period', () => {
    const a = dropoutMask(10_000, 0.5, 3);
    expect(dropoutMask(10_000, 0.5, 3)).toEqual(a);
    const b = dropoutMask(10_000, 0.5, 4);
    const differ = a.filter((v, i) => v !== b[i]).length;
    expect(differ).toBeGreaterThan(4000); // about half, as for independent masks
    expect(a.subarray(0, 5000)).not.toEqual(a.subarray(5000));
  });

  it('keeps everything at rate 0 and refuses a rate outside [0, 1)', () => {
    expect(Array.from(dropoutMask(5, 0, 1))).toEqual([1, 1, 1, 1, 1]);
    for (const rate of [1, -0.1, NaN])
      expectException(() => dropoutMask(3, rate, 1), LayerException, LayerErrorCode.InvalidConfig, /dropout rate must be in \[0, 1\)/);
  });
});

describe('seededDropout', () => {
  it('multiplies x by the mask and passes gradients through the kept elements only', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const mask = dropoutMask(8, 0.5, 9);
    expect(Array.from(seededDropout(x, 0.5, 9).dataSync())).toEqual(Array.from(x.dataSync()).map((v, i) => Math.fround(v * mask[i])));
    const grad = tf.grad((t: tf.Tensor) => tf.sum(seededDropout(t, 0.5, 9)))(x);
    expect(Array.from(grad.dataSync())).toEqual(Array.from(mask));
    expect(Array.from(seededDropout(x, 0, 9).dataSync())).toEqual(Array.from(x.dataSync()));
  });
});
