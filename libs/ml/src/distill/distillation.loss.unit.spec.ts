import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { distillationLoss, distillationTerms, stopGradient } from './distillation.loss';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/*
 * Reference values from PyTorch (torch 2.15.0, CPU) in a throwaway venv:
 *
 * # Reference for libs/ml/src/distill: torch 2.15.0, torch.nn.functional.kl_div / cross_entropy.
 * import torch, torch.nn.functional as F, json
 * B, T, V = 2, 4, 5
 * idx = torch.arange(B * T * V, dtype=torch.float64)
 * s = (((idx * 37) % 23) / 7 - 1.5).float().reshape(B, T, V).requires_grad_(True)   # student logits
 * t = (((idx * 53) % 19) / 5 - 1.8).float().reshape(B, T, V)                          # teacher logits
 * labels = torch.tensor([[-100, 1, 4, -100], [-100, -100, 0, 3]])
 * out = {}
 * for temp, alpha in [(2.0, 0.5), (1.0, 0.9)]:
 *     for direction in ['forward', 'reverse']:
 *         if s.grad is not None: s.grad = None
 *         ss, tt, ll = s[:, :-1], t[:, :-1], labels[:, 1:]
 *         mask = ll != -100
 *         ls = F.log_softmax(ss / temp, -1)[mask]
 *         lt = F.log_softmax(tt / temp, -1)[mask]
 *         kl = F.kl_div(ls, lt, log_target=True, reduction='batchmean') if direction == 'forward' else F.kl_div(lt, ls, log_target=True, reduction='batchmean')
 *         ce = F.cross_entropy(ss.reshape(-1, V), ll.reshape(-1), ignore_index=-100)
 *         loss = alpha * temp ** 2 * kl + (1 - alpha) * ce
 *         loss.backward()
 *         out[f'T{temp}_a{alpha}_{direction}'] = dict(loss=loss.item(), kl=kl.item(), ce=ce.item(), grad=s.grad.flatten().tolist())
 * print(json.dumps(out))
 */
const B = 2;
const T = 4;
const V = 5;
const student = () =>
  tf.tensor3d(
    Float32Array.from({ length: B * T * V }, (_, i) => ((i * 37) % 23) / 7 - 1.5),
    [B, T, V],
  );
const teacher = () =>
  tf.tensor3d(
    Float32Array.from({ length: B * T * V }, (_, i) => ((i * 53) % 19) / 5 - 1.8),
    [B, T, V],
  );
const labels = () =>
  tf.tensor2d(
    [
      [-100, 1, 4, -100],
      [-100, -100, 0, 3],
    ],
    [B, T],
    'int32',
  );

const TORCH = [
  {
    temperature: 2.0,
    alpha: 0.5,
    direction: 'forward' as const,
    loss: 1.5890305042266846,
    kl: 0.20929162204265594,
    ce: 2.3408944606781006,
    grad: [
      0.0056836879812181, -0.12709525227546692, -0.02252226322889328, 0.10874027013778687, 0.0351935438811779, -0.06853849440813065, 0.02856440283358097,
      -0.0019704969599843025, 0.12251654267311096, -0.08057194948196411, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
      -0.15158098936080933, 0.10201546549797058, 0.032033488154411316, 0.008340094238519669, 0.00919194146990776, -0.026580985635519028, 0.10201546549797058,
      0.032033488154411316, -0.11665990203619003, 0.009191945195198059, 0.0, 0.0, 0.0, 0.0, 0.0,
    ],
  },
  {
    temperature: 2.0,
    alpha: 0.5,
    direction: 'reverse' as const,
    loss: 1.5721887350082397,
    kl: 0.20087075233459473,
    ce: 2.3408944606781006,
    grad: [
      0.0022147796116769314, -0.12999984622001648, -0.018218297511339188, 0.11341133713722229, 0.032592035830020905, -0.036800943315029144,
      0.005526447668671608, -0.012683707289397717, 0.12845590710639954, -0.08449771255254745, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
      0.0, 0.0, -0.1444774717092514, 0.10534109175205231, 0.029278941452503204, 0.005452487152069807, 0.004404939711093903, -0.019477471709251404,
      0.10534109175205231, 0.029278941452503204, -0.11954750865697861, 0.004404943436384201, 0.0, 0.0, 0.0, 0.0, 0.0,
    ],
  },
  {
    temperature: 1.0,
    alpha: 0.9,
    direction: 'forward' as const,
    loss: 0.9126526713371277,
    kl: 0.7539591789245605,
    ce: 2.3408944606781006,
    grad: [
      0.0021658700425177813, -0.0883760005235672, -0.03922971338033676, 0.10170595347881317, 0.02373390644788742, -0.11779466271400452, 0.005489925388246775,
      -0.008286265656352043, 0.11560973525047302, 0.004981277510523796, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
      -0.07164948433637619, 0.09341076761484146, 0.020919853821396828, 0.0035799192264676094, -0.04626107215881348, -0.04664948210120201, 0.09341076761484146,
      0.020919853821396828, -0.021420080214738846, -0.04626106470823288, 0.0, 0.0, 0.0, 0.0, 0.0,
    ],
  },
  {
    temperature: 1.0,
    alpha: 0.9,
    direction: 'reverse' as const,
    loss: 0.9010611176490784,
    kl: 0.7410796880722046,
    ce: 2.3408944606781006,
    grad: [
      -0.002441663760691881, -0.09902241080999374, -0.027980666607618332, 0.1134391725063324, 0.01600554771721363, -0.030261751264333725, -0.06685948371887207,
      -0.026000458747148514, 0.12807106971740723, -0.004949431866407394, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
      -0.05259518697857857, 0.10297565162181854, 0.013751252554357052, -0.00026689970400184393, -0.0638648271560669, -0.027595186606049538, 0.10297565162181854,
      0.013751252554357052, -0.025266896933317184, -0.0638648271560669, 0.0, 0.0, 0.0, 0.0, 0.0,
    ],
  },
];

describe('distillationLoss', () => {
  it.each(TORCH)('matches torch kl_div + cross_entropy: T=$temperature, alpha=$alpha, $direction KL', (c) => {
    const s = student();
    const terms = distillationTerms(s, teacher(), labels(), c);
    expect(terms.kl.dataSync()[0]).toBeCloseTo(c.kl, 5);
    expect(terms.ce.dataSync()[0]).toBeCloseTo(c.ce, 5);
    expect(terms.loss.dataSync()[0]).toBeCloseTo(c.loss, 5);
    const g = tf
      .grad((x: tf.Tensor) => distillationLoss(x, teacher(), labels(), c))(s)
      .dataSync();
    for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - c.grad[i])).toBeLessThan(1e-6);
  });

  it('defaults to forward KL, T = 2, alpha = 0.5', () => {
    const loss = distillationLoss(student(), teacher(), labels());
    expect(loss.dataSync()[0]).toBeCloseTo(TORCH[0].loss, 5);
  });

  it('ignores masked positions: changing logits where the next label is -100 changes nothing', () => {
    const base = distillationLoss(student(), teacher(), labels()).dataSync()[0];
    // Position [0, 2] predicts label [0, 3] = -100, and the last position predicts nothing.
    const bump = tf.buffer([B, T, V], 'float32');
    for (let k = 0; k < V; k++) {
      bump.set(5 * (k + 1), 0, 2, k);
      bump.set(-3 * k, 1, 3, k);
    }
    const s2 = tf.add(student(), bump.toTensor());
    const t2 = tf.sub(teacher(), bump.toTensor());
    expect(distillationLoss(s2, t2, labels()).dataSync()[0]).toBeCloseTo(base, 6);
  });

  it('is zero KL when the student equals the teacher, so alpha = 1 gives zero loss', () => {
    const t = teacher();
    expect(distillationLoss(t, t, labels(), { alpha: 1 }).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('sends no gradient into the teacher', () => {
    const t = teacher();
    const gTeacher = tf.grad((x: tf.Tensor) => distillationLoss(student(), x, labels()))(t);
    expect(Array.from(gTeacher.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(stopGradient(t).dataSync())).toEqual(Array.from(t.dataSync()));
  });

  it('names what is wrong with its input', () => {
    expect(() => distillationLoss(student(), tf.zeros([B, T, V + 1]), labels())).toThrow(
      /teacher logits \[2, 4, 6\] must have the student's shape \[2, 4, 5\]/,
    );
    expect(() => distillationLoss(student(), teacher(), labels(), { temperature: 0 })).toThrow(/temperature must be a positive number, got 0/);
    expect(() => distillationLoss(student(), teacher(), labels(), { alpha: 1.5 })).toThrow(/alpha must be in \[0, 1\], got 1.5/);
    expect(() => distillationLoss(student(), teacher(), tf.fill([B, T], -100, 'int32'))).toThrow(/every label is -100/);
  });
});
