import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectException } from '../expect-exception.fixture';
import { LayerErrorCode, LayerException, Linear } from '../layers';
import { LoraLinear } from '../lora/lora-linear';
import { ToyHost } from '../lora/toy-host.fixture';
import { dequantizeNf4, nf4StorageBytes } from './nf4.quantizer';
import { QuantErrorCode, QuantException } from './quant.exception';
import { QuantizedLinear, quantizeModel } from './quantized-linear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe(QuantizedLinear.name, () => {
  describe('apply', () => {
    it('computes x·dequant(W)ᵀ + b and stays within the NF4 error of the float layer', () => {
      const base = new Linear('l', 128, 6, { seed: 3 });
      const q = QuantizedLinear.fromLinear(base, { doubleQuant: true });
      const x = tf.randomNormal([3, 2, 128], 0, 1, 'float32', 5);
      const y = q.apply(x);
      expect(y.shape).toEqual([3, 2, 6]);
      // Reference product in float64 from the dequantized weight and the bias.
      const w = dequantizeNf4(q.weight);
      const xs = x.dataSync() as Float32Array;
      const b = base.bias!.dataSync();
      const got = y.dataSync();
      for (let r = 0; r < 6; r++) {
        for (let o = 0; o < 6; o++) {
          let s = b[o];
          for (let i = 0; i < 128; i++) s += xs[r * 128 + i] * w[o * 128 + i];
          expect(Math.abs(got[r * 6 + o] - s)).toBeLessThan(1e-4);
        }
      }
      // Against the unquantized layer: each weight is off by at most half the widest NF4 gap
      // (0.1519 of the block absmax, between -1 and -0.6962, bound 1/√128), so |Δy| ≤ Σ|x|·0.1386/√128.
      const yf = base.apply(x).dataSync();
      const xAbsSum = Array.from({ length: 6 }, (_, r) => xs.slice(r * 128, (r + 1) * 128).reduce((s, v) => s + Math.abs(v), 0));
      for (let k = 0; k < 36; k++) expect(Math.abs(got[k] - yf[k])).toBeLessThanOrEqual((xAbsSum[Math.floor(k / 6)] * 0.1519 * 1.01) / Math.sqrt(128));
      base.dispose();
      q.dispose();
    });

    it('has no trainable weights, passes gradients to its input and leaks no tensors', () => {
      const q = QuantizedLinear.fromLinear(new Linear('l', 64, 4, { seed: 1 }));
      expect(q.trainableVariables()).toEqual([]);
      const x = tf.randomNormal([2, 64], 0, 1, 'float32', 2);
      const before = tf.memory().numTensors;
      const g = tf.grad((v: tf.Tensor) => tf.sum(q.apply(v)))(x);
      // d/dx sum(x·Wᵀ) = column sums of W, the same for every row.
      const w = dequantizeNf4(q.weight);
      for (let i = 0; i < 64; i++) {
        const colSum = w[i] + w[64 + i] + w[128 + i] + w[192 + i];
        expect(g.dataSync()[i]).toBeCloseTo(colSum, 5);
        expect(g.dataSync()[64 + i]).toBeCloseTo(colSum, 5);
      }
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      q.dispose();
    });

    it('rejects an input with the wrong last dimension', () => {
      const q = QuantizedLinear.fromLinear(new Linear('model.proj', 64, 4));
      expectException(() => q.apply(tf.zeros([2, 63])), LayerException, LayerErrorCode.InvalidInput, /QuantizedLinear model.proj: input last dimension is 63/);
    });
  });
});

describe('quantizeModel', () => {
  it('replaces the targeted layers by NF4 layers and reports their bytes', () => {
    const host = new ToyHost(64, 128, 5);
    const report = quantizeModel(host, ['up_proj', 'down_proj'], { doubleQuant: true });
    expect(report.layers.map((l) => l.name)).toEqual(['model.layers.0.mlp.up_proj', 'model.layers.0.mlp.down_proj']);
    expect(host.layer('model.layers.0.mlp.up_proj')).toBeInstanceOf(QuantizedLinear);
    expect(host.layer('lm_head')).toBeInstanceOf(Linear);
    expect(report.float32Bytes).toBe(2 * 64 * 128 * 4);
    expect(report.quantizedBytes).toBe(2 * nf4StorageBytes(64 * 128, { doubleQuant: true }));
    // 8192 weights: 4096 + 128 + 4 + 4 bytes each = 0.12915 of float32.
    expect(report.ratio).toBeCloseTo((4096 + 128 + 4 + 4) / 32768, 10);
    host.dispose();
  });

  it('names the unknown module and refuses layers that are not plain Linear', () => {
    const host = new ToyHost();
    expectException(
      () => quantizeModel(host, ['q_proj']),
      QuantException,
      QuantErrorCode.InvalidTarget,
      /^quantizeModel: target module "q_proj" matches no linear layer; layer name suffixes are: down_proj, lm_head, up_proj$/,
    );
    host.setLinear('lm_head', new LoraLinear(host.layer('lm_head'), { r: 2, alpha: 4 }));
    expectException(
      () => quantizeModel(host, ['lm_head']),
      QuantException,
      QuantErrorCode.UnsupportedLayer,
      /lm_head is a LoraLinear, only a plain Linear can be quantized/,
    );
    host.dispose();
  });
});
