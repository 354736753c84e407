import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW } from './adamw.optimizer';
import { DataOrder, epochPermutation } from './data-order';
import { clipByGlobalNorm } from './grad-clip';
import { adamWUpdate, setFusedOps } from '../fused/fused-ops';
import { SeededRandom } from '../layers/seeded-random';
import { cosineWithWarmup } from './lr-schedule';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/*
 * Reference values from torch 2.15.0 and transformers 5.24.0 (CPU, throwaway venv):
 *
 * # Reference for libs/ml/src/train: torch 2.15.0, transformers 5.24.0.
 * import torch, json, math
 * from transformers import get_cosine_schedule_with_warmup
 * out = {}
 * # AdamW: 5 steps on p [2, 3] with prescribed gradients g_t[i] = sin(0.7 * i + t) * (t + 1) / 3 (t = 1..5).
 * p = torch.nn.Parameter(torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.25, -3.0]]))
 * opt = torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
 * traj = []
 * for t in range(1, 6):
 *     g = torch.tensor([math.sin(0.7 * i + t) * (t + 1) / 3 for i in range(6)], dtype=torch.float32).reshape(2, 3)
 *     p.grad = g
 *     opt.step()
 *     traj.append(p.detach().flatten().tolist())
 * st = opt.state[p]
 * out['adamw'] = dict(traj=traj, exp_avg=st['exp_avg'].flatten().tolist(), exp_avg_sq=st['exp_avg_sq'].flatten().tolist())
 * # Cosine schedule with warmup: base lr 1.0, 3 warmup steps, 10 training steps.
 * o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
 * s = get_cosine_schedule_with_warmup(o, num_warmup_steps=3, num_training_steps=10)
 * lrs = []
 * for i in range(12):
 *     lrs.append(o.param_groups[0]['lr']); o.step(); s.step()
 * out['cosine'] = lrs
 * # clip_grad_norm_: two tensors, max_norm 1.0, and a case already below the max.
 * a = torch.nn.Parameter(torch.zeros(2)); b = torch.nn.Parameter(torch.zeros(2, 2))
 * a.grad = torch.tensor([3.0, 4.0]); b.grad = torch.tensor([[1.0, 2.0], [2.0, 4.0]])
 * n = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
 * out['clip'] = dict(norm=n.item(), a=a.grad.tolist(), b=b.grad.flatten().tolist())
 * a.grad = torch.tensor([0.3, 0.4]); b.grad = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
 * n = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
 * out['clipBelow'] = dict(norm=n.item(), a=a.grad.tolist())
 * print(json.dumps(out))
 */
const TORCH_ADAMW_TRAJECTORY = [
  [0.4895000159740448, -1.0090000629425049, 1.9880000352859497, -0.009999996051192284, 0.25975000858306885, -2.986999988555908],
  [0.4791596233844757, -1.0176587104797363, 1.9838593006134033, -0.002779640257358551, 0.26891517639160156, -2.9740002155303955],
  [0.47007259726524353, -1.0179321765899658, 1.987162470817566, 0.005627220030874014, 0.27814754843711853, -2.965439558029175],
  [0.4694155752658844, -1.0125727653503418, 1.9923114776611328, 0.013532903045415878, 0.2811404764652252, -2.964899778366089],
  [0.47296494245529175, -1.0056967735290527, 1.9956333637237549, 0.014541948214173317, 0.2781378924846649, -2.9670472145080566],
];
const TORCH_ADAMW_EXP_AVG = [-0.1869705617427826, -0.2428164780139923, -0.1844620555639267, -0.03935222700238228, 0.12426557391881943, 0.22943933308124542];
const TORCH_ADAMW_EXP_AVG_SQ = [
  0.00644064461812377, 0.005103090777993202, 0.003585183760151267, 0.004406748805195093, 0.006203933618962765, 0.005993293598294258,
];
const TRANSFORMERS_COSINE_3_10 = [
  0.0, 0.3333333333333333, 0.6666666666666666, 1.0, 0.9504844339512095, 0.8117449009293668, 0.6112604669781572, 0.38873953302184283, 0.18825509907063326,
  0.04951556604879048, 0.0, 0.04951556604879043,
];

describe(AdamW.name, () => {
  describe('apply', () => {
    it('follows torch.optim.AdamW(lr=0.01, wd=0.1) step for step', () => {
      const p = tf.variable(
        tf.tensor2d([
          [0.5, -1.0, 2.0],
          [0.0, 0.25, -3.0],
        ]),
      );
      const opt = new AdamW({ lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
      for (let t = 1; t <= 5; t++) {
        const g = tf.tensor2d(
          Float32Array.from({ length: 6 }, (_, i) => (Math.sin(0.7 * i + t) * (t + 1)) / 3),
          [2, 3],
        );
        opt.apply([p], [g]);
        const got = p.dataSync();
        for (let i = 0; i < 6; i++) expect(Math.abs(got[i] - TORCH_ADAMW_TRAJECTORY[t - 1][i])).toBeLessThan(2e-7);
      }
      const m = opt.moment(p)!;
      for (let i = 0; i < 6; i++) {
        expect(Math.abs(m.m.dataSync()[i] - TORCH_ADAMW_EXP_AVG[i])).toBeLessThan(1e-7);
        expect(Math.abs(m.v.dataSync()[i] - TORCH_ADAMW_EXP_AVG_SQ[i])).toBeLessThan(1e-9);
      }
      expect(opt.step).toBe(5);
      opt.dispose();
    });

    describe('buckets (parameters updated together)', () => {
      const r = new SeededRandom(3);
      const values = (n: number, spread = 1) => Float32Array.from({ length: n }, () => (r.next() * 2 - 1) * spread);
      // Small ones share a bucket; one of 2^20 values or more is a bucket of its own.
      const shapes = [[4, 3], [7], [2, 2, 5], [1100, 1000], [3, 8]];
      const options = { lr: 0.02, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05 };

      /** torch's per-parameter update, written out with adamWUpdate's plain chain: the reference. */
      class PerParameter {
        t = 0;
        state = new Map<number, { m: tf.Tensor; v: tf.Tensor }>();
        apply(params: tf.Variable[], ids: number[], grads: tf.Tensor[]): void {
          this.t++;
          const c = { ...options, bc2Sqrt: Math.sqrt(1 - options.beta2 ** this.t), stepSize: options.lr / (1 - options.beta1 ** this.t) };
          setFusedOps(false);
          try {
            params.forEach((p, i) => {
              const s = this.state.get(ids[i]!) ?? { m: tf.zeros(p.shape), v: tf.zeros(p.shape) };
              const next = adamWUpdate(p, grads[i]!, s.m, s.v, c);
              this.state.set(ids[i]!, { m: next.m, v: next.v });
              p.assign(next.param);
            });
          } finally {
            setFusedOps(true);
          }
        }
      }

      function twin(): { ours: tf.Variable[]; ref: tf.Variable[] } {
        const start = shapes.map((s) => values(s.reduce((a, b) => a * b, 1)));
        return {
          ours: shapes.map((s, i) => tf.variable(tf.tensor(start[i]!, s))),
          ref: shapes.map((s, i) => tf.variable(tf.tensor(start[i]!, s))),
        };
      }
      /** Equal bit for bit (a loop: jest's toEqual on a million values takes seconds). */
      const same = (a: tf.Tensor, b: tf.Tensor) => {
        const [x, y] = [a.dataSync(), b.dataSync()];
        expect(x.length).toBe(y.length);
        let differ = 0;
        for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differ++;
        expect(differ).toBe(0);
      };

      it('update every parameter bit for bit as a per-parameter update, also when the parameter list changes', () => {
        const { ours, ref } = twin();
        const opt = new AdamW(options);
        const reference = new PerParameter();
        const all = shapes.map((_, i) => i);
        // Step 3 leaves parameters 1 and 3 out (no gradient), step 4 brings them back.
        for (const ids of [all, all, [0, 2, 4], all]) {
          const grads = ids.map((i) => tf.tensor(values(ours[i]!.size, 0.5), shapes[i]));
          const before = tf.memory().numTensors;
          opt.apply(
            ids.map((i) => ours[i]!),
            grads,
          );
          if (ids === all && opt.step === 2) expect(tf.memory().numTensors).toBe(before);
          reference.apply(
            ids.map((i) => ref[i]!),
            ids,
            grads,
          );
          tf.dispose(grads);
        }
        ours.forEach((p, i) => same(p, ref[i]!));
        ours.forEach((p, i) => {
          const m = opt.moment(p)!;
          same(m.m, reference.state.get(i)!.m);
          same(m.v, reference.state.get(i)!.v);
          tf.dispose([m.m, m.v]);
        });
        opt.dispose();
      });

      it('restores moments with setMoment and continues exactly as without the interruption', () => {
        const { ours, ref } = twin();
        const grads = [0, 1, 2].map(() =>
          shapes.map((s) =>
            tf.tensor(
              values(
                s.reduce((a, b) => a * b, 1),
                0.5,
              ),
              s,
            ),
          ),
        );
        const straight = new AdamW(options);
        for (const g of grads) straight.apply(ours, g);
        const first = new AdamW(options);
        first.apply(ref, grads[0]!);
        first.apply(ref, grads[1]!);
        const resumed = new AdamW(options);
        ref.forEach((p) => {
          const m = first.moment(p)!;
          resumed.setMoment(p, m.m.dataSync() as Float32Array, m.v.dataSync() as Float32Array);
          tf.dispose([m.m, m.v]);
        });
        resumed.step = first.step;
        resumed.apply(ref, grads[2]!);
        ours.forEach((p, i) => same(p, ref[i]!));
        [straight, first, resumed].forEach((o) => o.dispose());
      });
    });

    it('decays weights even with a zero gradient (decoupled from the moments)', () => {
      const p = tf.variable(tf.tensor1d([2]));
      const opt = new AdamW({ lr: 0.1, weightDecay: 0.5 });
      opt.apply([p], [tf.zeros([1])]);
      expect(p.dataSync()[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5), 6); // m = 0, so only the decay moves p
      opt.dispose();
    });
  });
});

describe('cosineWithWarmup', () => {
  it('matches transformers get_cosine_schedule_with_warmup(3 warmup, 10 steps) for steps 0..11', () => {
    for (let s = 0; s < 12; s++) expect(cosineWithWarmup(s, { warmupSteps: 3, totalSteps: 10 })).toBeCloseTo(TRANSFORMERS_COSINE_3_10[s], 12);
  });

  it('rejects a schedule without steps', () => {
    expect(() => cosineWithWarmup(0, { warmupSteps: 0, totalSteps: 0 })).toThrow(/totalSteps must be a positive integer, got 0/);
  });
});

describe('clipByGlobalNorm', () => {
  it('matches torch.nn.utils.clip_grad_norm_ above and below the maximum', () => {
    const above = clipByGlobalNorm(
      [
        tf.tensor1d([3, 4]),
        tf.tensor2d([
          [1, 2],
          [2, 4],
        ]),
      ],
      1,
    );
    expect(above.norm).toBeCloseTo(7.071067810058594, 5);
    const a = above.grads[0].dataSync();
    const b = above.grads[1].dataSync();
    [0.42426401376724243, 0.5656853318214417].forEach((v, i) => expect(a[i]).toBeCloseTo(v, 6));
    [0.1414213329553604, 0.2828426659107208, 0.2828426659107208, 0.5656853318214417].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
    const below = clipByGlobalNorm([tf.tensor1d([0.3, 0.4]), tf.zeros([2, 2])], 1);
    expect(below.norm).toBeCloseTo(0.5, 6);
    expect(Array.from(below.grads[0].dataSync())).toEqual(Array.from(tf.tensor1d([0.3, 0.4]).dataSync()));
  });
});

describe(DataOrder.name, () => {
  describe('next', () => {
    it('visits every item once per epoch, in a new seeded order each epoch', () => {
      const order = new DataOrder(10, 42);
      const epoch0 = [...order.next(4), ...order.next(4), ...order.next(4)];
      expect(epoch0.length).toBe(10); // the last batch of an epoch is short
      expect([...epoch0].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const epoch1 = [...order.next(5), ...order.next(5)];
      expect([...epoch1].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(epoch1).not.toEqual(epoch0);
      expect(epochPermutation(10, 42, 1)).toEqual(epoch1);
      expect(epochPermutation(10, 43, 0)).not.toEqual(epoch0);
    });

    it('resumes from its state with the same batches', () => {
      const a = new DataOrder(7, 3);
      a.next(3);
      a.next(3);
      const state = a.getState();
      const b = new DataOrder(7, 3);
      b.setState(state);
      for (let i = 0; i < 5; i++) expect(b.next(3)).toEqual(a.next(3));
    });
  });
});
