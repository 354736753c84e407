/**
 * npm run bench:ml
 *
 * Training throughput of the LLaVA-style model against its peer, PyTorch + PEFT on the same
 * machine in the same run, at two sizes:
 *   tiny   text hidden 64, 2 layers, 4 heads / 2 kv heads, vocab 512; vision 32 px, patch 8,
 *          hidden 32, 2 layers; 40 text ids per example (55 positions with the 16 image ones)
 *   small  text hidden 512, intermediate 1376, 4 layers, 8 heads / 2 kv heads, vocab 8000;
 *          vision 64 px, patch 8, hidden 256, 4 layers; sequence 128 positions (64 of them the
 *          image's patches)
 * each for full fine-tuning, LoRA r=8 and QLoRA r=8 (NF4 + double quantization), batch 8,
 * AdamW, gradient clipping at 1.0 on both sides. Positions are counted alike on both sides:
 * every position the language model sees, the image's patch positions included.
 *
 * Trellis runs on the backend initMlBackend() picks (or TRELLIS_ML_BACKEND); the peer runs
 * bench/peers/torch-peft.peer.py in the venv `bash infra/torch-peer.sh install` makes under
 * .trellis/ (installed on first use; BENCH_TORCH=0 skips it, and it is skipped with a line
 * saying why where python3 is missing). Beside them, the backend's 1024² matmul rate, and a
 * per-kernel profile of one LoRA step at each size (where the time goes), with the fused ops
 * (libs/ml/src/fused: RMSNorm, SwiGLU, rotary, masked softmax, cross-entropy) and without them
 * (setFusedOps(false): the plain chains of standard ops), and LoRA's throughput without them.
 *
 * Env: BENCH_SIZES (default "tiny,small"), BENCH_STEPS_TINY (8), BENCH_STEPS_SMALL (3),
 * BENCH_TORCH (1). Prints tables, then one JSON line.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  applyLora,
  initMlBackend,
  setFusedOps,
  measureMatmulGflops,
  MultimodalConfig,
  MultimodalModel,
  quantizeModel,
  tinyMultimodalConfig,
  Trainer,
  TrainTask,
} from '@trellis/ml';
// The SFT training glue is not part of the library's public surface (it pulls in the data generator).
import { collateSft, fullFineTuneTask, loraTask, SftBatch, SftItem } from '../libs/ml/src/train/multimodal-sft';
import { printTable } from './bench-services';

const BATCH = 8;
const WARMUP = 1;
const LORA = { r: 8, alpha: 16, dropout: 0.05 };
const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head', 'linear_1', 'linear_2'];
const MODES = ['full', 'lora', 'qlora'] as const;
type Mode = (typeof MODES)[number];
const MODE_NAMES: Record<Mode, string> = { full: 'full fine-tune', lora: 'LoRA r=8', qlora: 'QLoRA r=8 (NF4 + DQ)' };

interface Size {
  name: 'tiny' | 'small';
  config: MultimodalConfig;
  /** Text ids per example, the one image token included. */
  textTokens: number;
  steps: number;
}

function sizes(): Size[] {
  const tiny: Size = { name: 'tiny', config: tinyMultimodalConfig({ vocabSize: 512 }), textTokens: 40, steps: Number(process.env.BENCH_STEPS_TINY || 8) };
  const small: Size = {
    name: 'small',
    config: tinyMultimodalConfig({
      vocabSize: 8000,
      text: { hiddenSize: 512, intermediateSize: 1376, numHiddenLayers: 4, numAttentionHeads: 8, numKeyValueHeads: 2, maxPositionEmbeddings: 256 },
      vision: { imageSize: 64, patchSize: 8, hiddenSize: 256, intermediateSize: 1024, numHiddenLayers: 4, numAttentionHeads: 8 },
    }),
    textTokens: 128 - 64 + 1,
    steps: Number(process.env.BENCH_STEPS_SMALL || 3),
  };
  const wanted = (process.env.BENCH_SIZES || 'tiny,small').split(',').map((s) => s.trim());
  return [tiny, small].filter((s) => wanted.includes(s.name));
}

const imagePositions = (c: MultimodalConfig) => (c.vision.imageSize / c.vision.patchSize) ** 2;

/** Fixed-length examples of random ids (speed does not depend on the values): the first id, the image, then text; the loss on the text after the image. */
function randomItems(size: Size, count: number): SftItem[] {
  const { config, textTokens } = size;
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  const px = config.vision.imageSize;
  return Array.from({ length: count }, () => {
    const ids = Array.from({ length: textTokens }, () => Math.floor(next() * (config.text.vocabSize - 1)));
    ids[1] = config.imageTokenId;
    const labels = ids.map((id, i) => (i < 2 ? -100 : id));
    const rgb = Uint8Array.from({ length: px * px * 3 }, () => Math.floor(next() * 256));
    return { rgb, size: px, example: { inputIds: ids, labels, promptLength: 2 } };
  });
}

interface Row {
  size: string;
  mode: Mode;
  trainable: number;
  positionsPerS: number;
  msPerStep: number;
  peakTfBytes: number;
}

function make(mode: Mode, config: MultimodalConfig): { model: MultimodalModel; task: TrainTask<SftBatch> } {
  const model = new MultimodalModel(config, 1);
  if (mode === 'full') return { model, task: fullFineTuneTask(model) };
  const targets = [...model.linearLayers().keys()].filter((n) => !n.startsWith('vision_tower.') && TARGETS.some((t) => n.endsWith(t)));
  if (mode === 'qlora') quantizeModel(model, targets, { doubleQuant: true });
  return { model, task: loraTask(model, applyLora(model, { ...LORA, targetModules: targets })) };
}

async function runTrellis(size: Size, mode: Mode): Promise<Row> {
  const { model, task } = make(mode, size.config);
  const trainable = [...task.variables().values()].reduce((s, v) => s + v.size, 0);
  const data = randomItems(size, BATCH * 2);
  const trainer = new Trainer(task, data, (items) => collateSft(items, 0), { batchSize: BATCH, seed: 1, optimizer: { lr: 0.01 } });
  trainer.train(WARMUP);
  const perStep = BATCH * (size.textTokens - 1 + imagePositions(size.config));
  let peakTf = tf.memory().numBytes;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < size.steps; i++) {
    trainer.trainStep();
    peakTf = Math.max(peakTf, tf.memory().numBytes);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  trainer.dispose();
  model.dispose();
  process.stderr.write(`  trellis ${size.name} ${mode}: done\n`);
  return { size: size.name, mode, trainable, positionsPerS: (perStep * size.steps) / secs, msPerStep: (secs / size.steps) * 1000, peakTfBytes: peakTf };
}

type KernelTime = { kernel: string; calls: number; ms: number };

/** Runs f with the fused ops off, then turns them back on. */
async function unfused<T>(f: () => Promise<T>): Promise<T> {
  setFusedOps(false);
  try {
    return await f();
  } finally {
    setFusedOps(true);
  }
}

/** Time per kernel over one LoRA step (forward, backward, optimizer), largest first. */
async function profileLoraStep(size: Size): Promise<KernelTime[]> {
  const { model, task } = make('lora', size.config);
  const trainer = new Trainer(task, randomItems(size, BATCH), (items) => collateSft(items, 0), { batchSize: BATCH, seed: 1, optimizer: { lr: 0.01 } });
  trainer.train(1);
  const info = await tf.profile(() => {
    trainer.trainStep();
  });
  const byKernel = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    // A tf.customGrad op (the fused ops off their kernels, the embedding) is profiled as an
    // 'unnamed scope' spanning the kernels it ran, which are listed themselves.
    if (k.name === 'unnamed scope') continue;
    const t = await k.kernelTimeMs;
    const ms = typeof t === 'number' ? t : 0;
    const e = byKernel.get(k.name) ?? { calls: 0, ms: 0 };
    byKernel.set(k.name, { calls: e.calls + 1, ms: e.ms + ms });
  }
  trainer.dispose();
  model.dispose();
  return [...byKernel].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
}

type PeerMode = { positionsPerS: number; msPerStep: number; trainable: number; positionsPerStep: number } | { error: string };
interface PeerResult {
  torch: string;
  peft: string;
  transformers: string;
  threads: number;
  modes: Partial<Record<Mode, PeerMode>>;
}

/** The peer's python, installing it on first use; null with the reason when it cannot be had. */
function peerPython(): { python: string | null; why: string } {
  if (process.env.BENCH_TORCH === '0') return { python: null, why: 'skipped (BENCH_TORCH=0)' };
  if (spawnSync('python3', ['--version']).status !== 0) return { python: null, why: 'skipped: python3 not found' };
  const r = spawnSync('bash', [join(__dirname, '..', 'infra', 'torch-peer.sh'), 'install'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) return { python: null, why: 'skipped: infra/torch-peer.sh install failed (see above)' };
  return { python: r.stdout.trim().split('\n').pop()!, why: '' };
}

function runPeer(python: string, size: Size, threads: number): PeerResult | { error: string } {
  const { text, vision } = size.config;
  const input = {
    text,
    vision,
    batch: BATCH,
    textTokens: size.textTokens,
    steps: size.steps,
    warmup: WARMUP,
    threads,
    modes: MODES,
    lora: { ...LORA, targets: TARGETS },
    lr: 0.01,
  };
  const r = spawnSync(python, [join(__dirname, 'peers', 'torch-peft.peer.py')], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
    // Offline (nothing to fetch: the models are built from configs) and quiet (the table says it all).
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error', HF_HUB_DISABLE_PROGRESS_BARS: '1', PYTHONWARNINGS: 'ignore' },
  });
  if (r.status !== 0) return { error: `the peer exited with ${r.status}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerResult;
}

async function main(): Promise<void> {
  const backend = await initMlBackend();
  const threads = Math.min(2, availableParallelism());
  const peer = peerPython();
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows: Row[] = [];
  const peers = new Map<string, PeerResult | { error: string }>();
  const profiles = new Map<string, { fused: KernelTime[]; plain: KernelTime[] }>();
  /** LoRA with the fused ops off and on, run alternately twice each after the table's runs (the best of each): the first runs of a process warm caches the later ones find. */
  const fusion = new Map<string, { unfused: Row; fused: Row }>();
  const best = (a: Row, b: Row) => (a.positionsPerS >= b.positionsPerS ? a : b);
  for (const size of sizes()) {
    for (const mode of MODES) rows.push(await runTrellis(size, mode));
    const pairs: { unfused: Row; fused: Row }[] = [];
    for (let i = 0; i < 2; i++) pairs.push({ unfused: await unfused(() => runTrellis(size, 'lora')), fused: await runTrellis(size, 'lora') });
    fusion.set(size.name, { unfused: best(pairs[0]!.unfused, pairs[1]!.unfused), fused: best(pairs[0]!.fused, pairs[1]!.fused) });
    profiles.set(size.name, { plain: await unfused(() => profileLoraStep(size)), fused: await profileLoraStep(size) });
    if (peer.python) peers.set(size.name, runPeer(peer.python, size, threads));
  }

  const peerMode = (size: string, mode: Mode): PeerMode | undefined => {
    const p = peers.get(size);
    return p && 'modes' in p ? p.modes[mode] : undefined;
  };
  const peerRate = (size: string, mode: Mode) => {
    const m = peerMode(size, mode);
    return m && 'positionsPerS' in m ? m.positionsPerS : null;
  };
  const peerCell = (size: string, mode: Mode) => {
    const p = peers.get(size);
    if (!p) return peer.why;
    if ('error' in p) return p.error;
    const m = peerMode(size, mode);
    return !m ? 'n/a' : 'error' in m ? `n/a: ${m.error.slice(0, 60)}` : fmt(m.positionsPerS);
  };
  const ratio = (r: Row) => {
    const p = peerRate(r.size, r.mode);
    return p ? r.positionsPerS / p : null;
  };
  const first = [...peers.values()].find((p): p is PeerResult => 'torch' in p);
  printTable(
    `ML training, batch ${BATCH}: Trellis on ${backend.name} (tfjs ${backend.tfjsBackend}) vs ${first ? `PyTorch ${first.torch} + PEFT ${first.peft}, ${first.threads} threads` : 'PyTorch + PEFT'} (positions/s, image positions included)`,
    [
      ['size', 'mode', 'trainable params', 'Trellis pos/s', 'ms/step', 'peak tf MB', 'PyTorch pos/s', 'ratio'],
      ...rows.map((r) => {
        const q = ratio(r);
        return [
          r.size,
          MODE_NAMES[r.mode],
          fmt(r.trainable),
          fmt(r.positionsPerS),
          fmt(r.msPerStep),
          fmt(r.peakTfBytes / 2 ** 20, 1),
          peerCell(r.size, r.mode),
          q === null ? '-' : `${q.toFixed(2)}×`,
        ];
      }),
    ],
  );
  printTable(`LoRA r=8 with the fused ops and without them (plain chains of standard ops), ${backend.name}, same run: best of two alternate runs each`, [
    ['size', 'fused pos/s', 'unfused pos/s', 'fused ms/step', 'unfused ms/step', 'speed-up'],
    ...[...fusion].map(([size, { unfused: u, fused: f }]) => [
      size,
      fmt(f.positionsPerS),
      fmt(u.positionsPerS),
      fmt(f.msPerStep),
      fmt(u.msPerStep),
      `${(f.positionsPerS / u.positionsPerS).toFixed(2)}×`,
    ]),
  ]);
  const sum = (ks: KernelTime[], key: 'calls' | 'ms') => ks.reduce((s, k) => s + k[key], 0);
  for (const [size, { plain, fused }] of profiles) {
    const names = [...new Set([...fused.slice(0, 12), ...plain.slice(0, 12)].map((k) => k.kernel))];
    const find = (ks: KernelTime[], name: string) => ks.find((k) => k.kernel === name);
    const cell = (k: KernelTime | undefined, total: number) =>
      k ? `${fmt(k.calls)} / ${fmt(k.ms, 1)} / ${((100 * k.ms) / Math.max(total, 1e-9)).toFixed(1)}%` : '-';
    const [plainMs, fusedMs] = [sum(plain, 'ms'), sum(fused, 'ms')];
    printTable(
      `Where one LoRA step's kernel time goes (${size}, ${backend.name}): unfused ${fmt(plainMs)} ms in ${fmt(sum(plain, 'calls'))} kernel calls; fused ${fmt(fusedMs)} ms in ${fmt(sum(fused, 'calls'))} (calls / ms / share)`,
      [
        ['kernel', 'unfused', 'fused'],
        ...names
          .map((name) => ({ name, plain: find(plain, name), fused: find(fused, name) }))
          .sort((a, b) => Math.max(b.plain?.ms ?? 0, b.fused?.ms ?? 0) - Math.max(a.plain?.ms ?? 0, a.fused?.ms ?? 0))
          .map((k) => [k.name, cell(k.plain, plainMs), cell(k.fused, fusedMs)]),
      ],
    );
  }
  const matmul = await measureMatmulGflops(1024);
  printTable('Matrix multiply 1024×1024 (GFLOP/s)', [
    ['measure', 'GFLOP/s'],
    [`tfjs tf.matMul on ${backend.name}`, fmt(matmul, 1)],
  ]);
  console.log(`\nbackend: ${backend.name}; ${backend.notes.join('; ')}`);

  const figures: Record<string, unknown> = {
    bench: 'ml',
    backend: backend.name,
    tfjs_backend: backend.tfjsBackend,
    batch: BATCH,
    torch: first?.torch ?? null,
    peft: first?.peft ?? null,
    peer: peer.python ? 'ran' : peer.why,
  };
  for (const r of rows) {
    figures[`${r.mode}_positions_per_s_${r.size}`] = Number(r.positionsPerS.toFixed(1));
    figures[`${r.mode}_torch_positions_per_s_${r.size}`] = peerRate(r.size, r.mode) === null ? null : Number(peerRate(r.size, r.mode)!.toFixed(1));
    const q = ratio(r);
    figures[`${r.mode}_ratio_vs_torch_${r.size}`] = q === null ? null : Number(q.toFixed(3));
  }
  for (const [size, { unfused: u, fused: f }] of fusion) {
    figures[`lora_unfused_positions_per_s_${size}`] = Number(u.positionsPerS.toFixed(1));
    figures[`lora_fusion_speedup_${size}`] = Number((f.positionsPerS / u.positionsPerS).toFixed(3));
  }
  for (const [size, { plain, fused }] of profiles) {
    figures[`lora_step_kernel_calls_${size}`] = { unfused: sum(plain, 'calls'), fused: sum(fused, 'calls') };
  }
  figures.matmul_gflops = Number(matmul.toFixed(2));
  console.log(JSON.stringify(figures));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
