/**
 * npm run bench:ml
 *
 * Training throughput of the tiny LLaVA-style model on the synthetic data set, on the backend
 * initMlBackend() picks (cpu-blas when OpenBLAS is installed by `bash infra/blas.sh install`):
 * full fine-tuning, LoRA and QLoRA (NF4 + double quantization + LoRA), each as tokens/s over
 * timed optimizer steps after a warm-up, with the peak tfjs memory (tf.memory().numBytes
 * between steps and tf.profile's peakBytes within one step) and the peak process RSS. Beside
 * them, the in-run baselines: the backend's matmul rate and the machine's own rate (raw
 * OpenBLAS sgemm, or numpy through python3 when OpenBLAS cannot be loaded) on 1024×1024
 * matrices. Prints a table, then one JSON line.
 * BENCH_STEPS (default 8) sets the timed steps per mode.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import {
  applyLora,
  initMlBackend,
  measureMachineGflops,
  measureMatmulGflops,
  MultimodalModel,
  quantizeModel,
  tinyMultimodalConfig,
  Trainer,
  TrainTask,
} from '@trellis/ml';
// The synthetic-data training glue is not part of the library's public surface (it pulls in the data generator).
import { collateSft, fullFineTuneTask, loraTask, SftBatch, SftItem, syntheticSftData } from '../libs/ml/src/train/multimodal-sft';
import { printTable } from './bench-services';

const STEPS = Number(process.env.BENCH_STEPS || 8);
const WARMUP = 2;
const BATCH = 8;
const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head', 'linear_1', 'linear_2'];

interface Row {
  mode: string;
  trainable: number;
  tokensPerS: number;
  msPerStep: number;
  peakTfBytes: number;
  peakRss: number;
  firstLoss: number;
  lastLoss: number;
}

/** numpy's float32 matmul rate, the machine's own when OpenBLAS cannot be loaded here. */
function numpyGflops(n: number): number | null {
  const code = `import numpy as np, time
a = np.random.rand(${n}, ${n}).astype(np.float32); b = np.random.rand(${n}, ${n}).astype(np.float32)
a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(3))
print(2 * ${n} ** 3 / best / 1e9)`;
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

async function runMode(mode: string, make: () => { model: MultimodalModel; task: TrainTask<SftBatch> }, data: SftItem[], padId: number): Promise<Row> {
  const { model, task } = make();
  const trainable = [...task.variables().values()].reduce((s, v) => s + v.size, 0);
  const trainer = new Trainer(task, data, (items) => collateSft(items, padId), { batchSize: BATCH, seed: 1, optimizer: { lr: 0.01 } });
  trainer.train(WARMUP);
  let peakTf = tf.memory().numBytes;
  let peakRss = process.memoryUsage().rss;
  let tokens = 0;
  const losses: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < STEPS; i++) {
    const p = trainer.trainStep();
    tokens += p.tokens;
    losses.push(p.loss);
    peakTf = Math.max(peakTf, tf.memory().numBytes);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  // One more step under tf.profile for the peak inside a step (activations, gradients, the
  // dequantized NF4 weights), which tf.memory() between steps does not see.
  const prof = await tf.profile(() => {
    trainer.trainStep();
  });
  peakTf = Math.max(peakTf, prof.peakBytes);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  trainer.dispose();
  model.dispose();
  process.stderr.write(`  ${mode}: done\n`);
  return {
    mode,
    trainable,
    tokensPerS: tokens / secs,
    msPerStep: (secs / STEPS) * 1000,
    peakTfBytes: peakTf,
    peakRss,
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
  };
}

async function main(): Promise<void> {
  const backend = await initMlBackend();
  const data = syntheticSftData({ seed: 3, subjects: 15, itemsPerSubject: 2 });
  const { tokenizer } = data;
  const config = () => tinyMultimodalConfig({ vocabSize: tokenizer.vocabSize, imageTokenId: tokenizer.imageId });
  const targetsOf = (m: MultimodalModel) => [...m.linearLayers().keys()].filter((n) => !n.startsWith('vision_tower.') && TARGETS.some((t) => n.endsWith(t)));
  let qloraRatio = NaN;

  const rows: Row[] = [
    await runMode(
      'full fine-tune',
      () => {
        const model = new MultimodalModel(config(), 1);
        return { model, task: fullFineTuneTask(model) };
      },
      data.train,
      tokenizer.padId,
    ),
    await runMode(
      'LoRA r=8',
      () => {
        const model = new MultimodalModel(config(), 1);
        const adapters = applyLora(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: targetsOf(model) });
        return { model, task: loraTask(model, adapters) };
      },
      data.train,
      tokenizer.padId,
    ),
    await runMode(
      'QLoRA r=8 (NF4 + DQ)',
      () => {
        const model = new MultimodalModel(config(), 1);
        const targets = targetsOf(model);
        qloraRatio = quantizeModel(model, targets, { doubleQuant: true }).ratio;
        const adapters = applyLora(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: targets });
        return { model, task: loraTask(model, adapters) };
      },
      data.train,
      tokenizer.padId,
    ),
  ];

  const matmul = await measureMatmulGflops(1024);
  let machine = measureMachineGflops(1024);
  let machineSource = 'OpenBLAS sgemm';
  if (machine === null) {
    machine = numpyGflops(1024);
    machineSource = machine === null ? 'unavailable' : 'numpy (python3)';
  }

  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const mb = (b: number) => fmt(b / 2 ** 20, 1);
  printTable(
    `ML training on backend ${backend.name} (tfjs ${backend.tfjsBackend}${backend.blas ? `, ${backend.blas.library}, ${backend.blas.threads} threads` : ''}); batch ${BATCH}, ${STEPS} timed steps`,
    [
      ['mode', 'trainable params', 'tokens/s', 'ms/step', 'peak tf MB', 'peak RSS MB', 'loss first→last'],
      ...rows.map((r) => [
        r.mode,
        fmt(r.trainable),
        fmt(r.tokensPerS, 1),
        fmt(r.msPerStep),
        mb(r.peakTfBytes),
        mb(r.peakRss),
        `${r.firstLoss.toFixed(3)}→${r.lastLoss.toFixed(3)}`,
      ]),
    ],
  );
  printTable('Matrix multiply 1024×1024 (GFLOP/s)', [
    ['measure', 'GFLOP/s'],
    [`tfjs tf.matMul on ${backend.name}`, fmt(matmul, 1)],
    [`machine: ${machineSource}`, machine === null ? 'n/a' : fmt(machine, 1)],
  ]);
  console.log(`\nQLoRA quantized linear weights: ${(qloraRatio * 100).toFixed(2)}% of float32`);
  const get = (mode: string) => rows.find((r) => r.mode.startsWith(mode))!;
  console.log(
    JSON.stringify({
      bench: 'ml',
      backend: backend.name,
      tfjs_backend: backend.tfjsBackend,
      blas: backend.blas,
      batch: BATCH,
      steps: STEPS,
      full_tokens_per_s: Number(get('full').tokensPerS.toFixed(1)),
      lora_tokens_per_s: Number(get('LoRA').tokensPerS.toFixed(1)),
      qlora_tokens_per_s: Number(get('QLoRA').tokensPerS.toFixed(1)),
      full_peak_tf_bytes: get('full').peakTfBytes,
      lora_peak_tf_bytes: get('LoRA').peakTfBytes,
      qlora_peak_tf_bytes: get('QLoRA').peakTfBytes,
      full_peak_rss_bytes: get('full').peakRss,
      lora_peak_rss_bytes: get('LoRA').peakRss,
      qlora_peak_rss_bytes: get('QLoRA').peakRss,
      qlora_weight_bytes_ratio: Number(qloraRatio.toFixed(5)),
      matmul_gflops: Number(matmul.toFixed(2)),
      machine_gflops: machine === null ? null : Number(machine.toFixed(2)),
      machine_gflops_source: machineSource,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
