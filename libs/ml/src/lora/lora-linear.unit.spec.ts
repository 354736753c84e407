import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectException } from '../expect-exception.fixture';
import { Linear } from '../layers';
import { QuantizedLinear, quantizeModel } from '../quant/quantized-linear';
import { LoraLinear, loraScaling } from './lora-linear';
import { applyLora } from './lora-adapters';
import { LoraErrorCode, LoraException } from './lora.exception';
import { ToyHost } from './toy-host.fixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe(LoraLinear.name, () => {
  describe('constructor', () => {
    it('initialises A like kaiming_uniform_(a=√5): U(±√(6/((1+5)·fan_in))) = U(±1/√in), and B at zero', () => {
      // Hand-computed bounds: in=64 -> 0.125, in=1000 -> 0.0316228.
      for (const [inF, bound] of [
        [64, 0.125],
        [1000, 0.0316228],
      ]) {
        const lora = new LoraLinear(new Linear('l', inF, 3), { r: 8, alpha: 16, seed: 4 });
        expect(lora.loraA.shape).toEqual([8, inF]);
        expect(lora.loraB.shape).toEqual([3, 8]);
        const a = lora.loraA.dataSync() as Float32Array;
        const maxAbs = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(maxAbs).toBeLessThanOrEqual(bound * (1 + 1e-6));
        expect(maxAbs).toBeGreaterThan(bound * 0.95); // 512+ uniform draws reach the edge
        const mean = a.reduce((s, v) => s + v, 0) / a.length;
        const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
        expect(variance).toBeGreaterThan(((bound * bound) / 3) * 0.85); // U(±b) has variance b²/3
        expect(variance).toBeLessThan(((bound * bound) / 3) * 1.15);
        expect(Array.from(lora.loraB.dataSync()).every((v) => v === 0)).toBe(true);
        lora.dispose();
      }
    });

    it('scales by alpha/r, or alpha/√r with rsLoRA', () => {
      expect(loraScaling(8, 16)).toBe(2);
      expect(loraScaling(8, 16, true)).toBeCloseTo(5.656854, 6);
      expect(new LoraLinear(new Linear('l', 4, 4), { r: 4, alpha: 8, useRslora: true }).scaling).toBe(4);
    });

    it('rejects a bad rank, alpha or dropout', () => {
      expect(() => new LoraLinear(new Linear('l', 4, 4), { r: 0, alpha: 8 })).toThrow(/r must be a positive integer, got 0/);
      expect(() => new LoraLinear(new Linear('l', 4, 4), { r: 2, alpha: -1 })).toThrow(/alpha must be a positive number/);
      expect(() => new LoraLinear(new Linear('l', 4, 4), { r: 2, alpha: 4, dropout: 1 })).toThrow(/dropout must be in \[0, 1\), got 1/);
    });
  });

  describe('apply', () => {
    it('leaves the output unchanged while B is zero', () => {
      const base = new Linear('l', 6, 5, { seed: 2 });
      const x = tf.randomNormal([3, 6], 0, 1, 'float32', 1);
      const before = base.apply(x);
      const lora = new LoraLinear(base, { r: 2, alpha: 4 });
      expect(Array.from(lora.apply(x).dataSync())).toEqual(Array.from(before.dataSync()));
      lora.dispose();
    });

    it('adds scaling·x·Aᵀ·Bᵀ (hand-computed)', () => {
      // W = 0, A = [[1, 0], [0, 1]], B = [[1, 2]], r = 2, alpha = 4 -> scaling 2;
      // x = [3, 4]: x·Aᵀ = [3, 4], ·Bᵀ = 3 + 8 = 11, ·2 = 22.
      const base = new Linear('l', 2, 1, { bias: false, init: tf.zeros([1, 2]) });
      const lora = new LoraLinear(base, { r: 2, alpha: 4 });
      lora.loraA.assign(
        tf.tensor2d([
          [1, 0],
          [0, 1],
        ]),
      );
      lora.loraB.assign(tf.tensor2d([[1, 2]]));
      expect(Array.from(lora.apply(tf.tensor2d([[3, 4]])).dataSync())).toEqual([22]);
      lora.dispose();
    });

    it('applies seeded dropout only in training mode', () => {
      const make = () => {
        const l = new LoraLinear(new Linear('l', 32, 4, { seed: 1 }), { r: 4, alpha: 8, dropout: 0.5, seed: 9 });
        l.loraB.assign(tf.ones([4, 4]));
        return l;
      };
      const a = make();
      const b = make();
      const x = tf.ones([2, 32]);
      const eval1 = a.apply(x);
      expect(maxAbsDiff(eval1, a.apply(x))).toBe(0);
      a.training = true;
      b.training = true;
      const t1 = a.apply(x);
      const t2 = a.apply(x);
      expect(maxAbsDiff(t1, eval1)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(t1, t2)).toBeGreaterThan(1e-3); // a new mask each call
      expect(maxAbsDiff(t1, b.apply(x))).toBe(0); // same seed, same first mask
      a.dispose();
      b.dispose();
    });
  });

  describe('merge', () => {
    it('gives the unmerged output within 1e-5, and unmerge restores the base weight', () => {
      const base = new Linear('l', 16, 8, { seed: 5 });
      const w0 = base.weight.dataSync().slice();
      const lora = new LoraLinear(base, { r: 4, alpha: 8, seed: 3 });
      lora.loraB.assign(tf.randomNormal([8, 4], 0, 0.5, 'float32', 8));
      const x = tf.randomNormal([5, 16], 0, 1, 'float32', 6);
      const unmerged = lora.apply(x);
      lora.merge();
      expect(lora.merged).toBe(true);
      expect(maxAbsDiff(base.weight, tf.tensor2d(w0, [8, 16]))).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(lora.apply(x), unmerged)).toBeLessThan(1e-5);
      expect(() => lora.merge()).toThrow(/already merged/);
      lora.unmerge();
      expect(maxAbsDiff(base.weight, tf.tensor2d(w0, [8, 16]))).toBeLessThan(1e-6);
      expect(maxAbsDiff(lora.apply(x), unmerged)).toBeLessThan(1e-5);
      lora.dispose();
    });

    it('refuses to merge into a quantized base', () => {
      const lora = new LoraLinear(QuantizedLinear.fromLinear(new Linear('l', 64, 2)), { r: 2, alpha: 2 });
      expect(() => lora.merge()).toThrow(/merge needs a float Linear base, this adapter wraps a QuantizedLinear/);
      lora.dispose();
    });
  });
});

describe('applyLora', () => {
  it('wraps the targeted layers and trains only A and B (base frozen)', () => {
    const host = new ToyHost(8, 16, 5, 3);
    const adapters = applyLora(host, { r: 2, alpha: 4, targetModules: ['up_proj', 'lm_head'] });
    expect([...adapters.layers.keys()]).toEqual(['model.layers.0.mlp.up_proj', 'lm_head']);
    expect(host.layer('model.layers.0.mlp.down_proj')).toBeInstanceOf(Linear);
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 1);
    const target = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
    // No varList: tfjs differentiates every trainable variable, so frozen base weights would show up.
    const { grads } = tf.variableGrads(() => host.loss(x, target));
    const trainable = adapters.trainableVariables();
    expect(Object.keys(grads).sort()).toEqual(trainable.map((v) => v.name).sort());
    // With B = 0 the gradient reaches B but not A (dL/dA = scaling·Bᵀ·... = 0), as in PEFT.
    for (const l of adapters.layers.values()) {
      expect(tf.tidy(() => tf.max(tf.abs(grads[l.loraB.name])).dataSync()[0])).toBeGreaterThan(0);
      expect(tf.tidy(() => tf.max(tf.abs(grads[l.loraA.name])).dataSync()[0])).toBe(0);
    }
    host.dispose();
  });

  it('trains adapters over a quantized base (QLoRA) and lowers the loss', () => {
    const host = new ToyHost(64, 64, 4, 3);
    quantizeModel(host, ['up_proj', 'down_proj']);
    const adapters = applyLora(host, { r: 4, alpha: 8, targetModules: ['up_proj', 'down_proj'] });
    const x = tf.randomNormal([16, 64], 0, 1, 'float32', 1);
    const target = tf.randomNormal([16, 4], 0, 1, 'float32', 2);
    const vars = adapters.trainableVariables();
    const loss0 = host.loss(x, target).dataSync()[0];
    for (let step = 0; step < 30; step++) {
      const { grads } = tf.variableGrads(() => host.loss(x, target), vars);
      for (const v of vars) v.assign(tf.tidy(() => tf.sub(v, tf.mul(grads[v.name], 0.05))));
      tf.dispose(grads);
    }
    expect(host.loss(x, target).dataSync()[0]).toBeLessThan(loss0 * 0.9);
    host.dispose();
  });

  it('names a target that matches nothing', () => {
    const host = new ToyHost();
    const error = expectException(
      () => applyLora(host, { r: 2, alpha: 4, targetModules: ['k_proj'] }),
      LoraException,
      LoraErrorCode.InvalidTarget,
      'applyLora: target module "k_proj" matches no linear layer; layer name suffixes are: down_proj, lm_head, up_proj',
    );
    expect(error.fields).toEqual(['targetModules']);
    expectException(() => applyLora(host, { r: 2, alpha: 4, targetModules: [] }), LoraException, LoraErrorCode.InvalidTarget, /no target modules given/);
    // Nothing was wrapped by the failed calls, so a valid one still applies.
    expect(applyLora(host, { r: 2, alpha: 4, targetModules: ['lm_head'] }).layers.size).toBe(1);
    expectException(
      () => applyLora(host, { r: 2, alpha: 4, targetModules: ['lm_head'] }),
      LoraException,
      LoraErrorCode.AlreadyApplied,
      /lm_head already has a LoRA adapter/,
    );
    host.dispose();
  });
});
