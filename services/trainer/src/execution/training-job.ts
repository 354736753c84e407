import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import {
  applyLora,
  buildTrainingExample,
  collateSft,
  distillationTask,
  evaluateLoss,
  fullFineTuneTask,
  initMlBackend,
  LoraAdapters,
  loraTask,
  MlBackendName,
  MultimodalModel,
  quantizeModel,
  readBaseCheckpoint,
  SftItem,
  Trainer,
  TrainingErrorCode,
  TrainingException,
  TrainTask,
  withTeacher,
  writeBaseCheckpoint,
  type SftBatch,
} from '@trellis/ml';
import { LossPoint, lossCurveCsv, lossCurvePng } from '../artifacts/loss-curve';
import type { SnapshotManifest } from '../snapshot/snapshot';
import { CompletionReport, LOSS_HISTORY_FILE, ProgressReport, TrainingJob, WorkerMessage } from './worker-protocol';

/** What the job needs from its host process: a way to report, and whether it was asked to stop. */
export interface JobHost {
  send(message: WorkerMessage): void;
  cancelRequested(): boolean;
  /** Lets the host's event loop turn between steps (IPC messages, heartbeats). */
  yield(): Promise<void>;
}

/** Logits kept of the probe example: enough to tell one set of weights from another. */
const PROBE_LOGITS = 64;

interface History {
  points: LossPoint[];
  baseHeldOutLoss: number | null;
  tokensSeen: number;
  log: string[];
}

async function loadImages(manifest: SnapshotManifest, imagesDir: string, size: number): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const item of manifest.items) {
    if (out.has(item.imageSha256)) continue;
    const bytes = fs.readFileSync(path.join(imagesDir, item.imageSha256));
    const rgb = await sharp(bytes).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer();
    out.set(item.imageSha256, new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength));
  }
  return out;
}

/**
 * One training run, inside the worker process: load the base model and the snapshot, set up
 * the method, resume from a checkpoint if given, train to the planned step count with held-out
 * loss and checkpoints on schedule, and leave the artifacts in `outDir/artifacts`. Reports go
 * through `host`; a failure is reported with its step and reason, never thrown past here.
 */
export async function runTrainingJob(job: TrainingJob, host: JobHost): Promise<void> {
  const started = Date.now();
  const h = job.hyperparameters;
  let trainer: Trainer<SftItem, SftBatch> | null = null;
  const models: MultimodalModel[] = [];
  let adapters: LoraAdapters | null = null;
  let step = 0;
  try {
    const report = await initMlBackend(job.backend ? { prefer: [job.backend as MlBackendName] } : {});
    const before = tf.memory().numTensors;
    host.send({
      type: 'started',
      backend: report.name,
      device: report.blas ? `${report.tfjsBackend} + ${report.blas.library}` : report.tfjsBackend,
      notes: report.notes,
    });

    const base = await readBaseCheckpoint(job.baseModelDir);
    models.push(base.model);
    const manifest = JSON.parse(fs.readFileSync(job.manifestPath, 'utf8')) as SnapshotManifest;
    const pairsOf = JSON.parse(fs.readFileSync(job.pairsPath, 'utf8')) as Record<string, { prompt: string; answer: string }[]>;
    const pairs = (i: { setId: string; itemId: string }) => pairsOf[`${i.setId}/${i.itemId}`] ?? [];
    const size = base.config.vision.imageSize;
    const images = await loadImages(manifest, job.imagesDir, size);
    const toItems = (split: 'train' | 'held-out'): SftItem[] =>
      manifest.items
        .filter((i) => i.split === split)
        .flatMap((i) => pairs(i).map((pair) => ({ rgb: images.get(i.imageSha256)!, size, example: buildTrainingExample(base.tokenizer, pair) })));
    const train = toItems('train');
    const heldOut = toItems('held-out');
    const collate = (items: SftItem[]) => collateSft(items, base.tokenizer.padId);

    let task: TrainTask<SftBatch>;
    let trainCollate = collate;
    if (job.method === 'lora' || job.method === 'qlora') {
      const lora = h.lora!;
      const targets = [...base.model.linearLayers().keys()].filter((n) => lora.targetModules.some((t) => n === t || n.endsWith(`.${t}`)));
      if (job.method === 'qlora') quantizeModel(base.model, targets, { doubleQuant: true });
      adapters = applyLora(base.model, {
        r: lora.rank,
        alpha: lora.alpha,
        dropout: lora.dropout,
        targetModules: targets,
        useRslora: lora.rslora,
        seed: h.seed,
      });
      task = loraTask(base.model, adapters);
    } else if (job.method === 'distill') {
      const teacher = await readBaseCheckpoint(job.teacherModelDir!);
      models.push(teacher.model);
      teacher.model.setTrainable(false);
      task = distillationTask(base.model, { temperature: h.distillation!.temperature, alpha: h.distillation!.alpha });
      trainCollate = withTeacher(teacher.model, collate);
    } else {
      task = fullFineTuneTask(base.model);
    }
    // Held-out loss is the plain language-model loss in every method, so it compares with the base model's.
    const evalTask = { loss: (b: SftBatch) => base.model.loss(b), setTraining: task.setTraining };
    const heldOutLoss = () => (heldOut.length > 0 ? evaluateLoss(evalTask, heldOut, collate, h.batchSize) : null);

    trainer = new Trainer(task, train, trainCollate, {
      batchSize: h.batchSize,
      seed: h.seed,
      gradAccumulation: h.gradAccumulation,
      optimizer: { lr: h.learningRate, weightDecay: h.weightDecay },
      schedule: h.schedule === 'cosine' ? { warmupSteps: h.warmupSteps, totalSteps: job.totalSteps } : undefined,
      maxGradNorm: h.maxGradNorm,
    });
    let history: History;
    if (job.resumeDir) {
      trainer.loadCheckpoint(job.resumeDir);
      history = JSON.parse(fs.readFileSync(path.join(job.resumeDir, LOSS_HISTORY_FILE), 'utf8')) as History;
      history.log.push(`resumed from the checkpoint of step ${trainer.step} on ${report.name}`);
    } else {
      const baseHeldOutLoss = heldOutLoss();
      history = { points: [], baseHeldOutLoss, tokensSeen: 0, log: [`backend ${report.name}; ${report.notes.join('; ')}`] };
      history.log.push(`${train.length} training pairs, ${heldOut.length} held-out pairs; base held-out loss ${baseHeldOutLoss ?? 'n/a'}`);
    }
    step = trainer.step;

    while (step < job.totalSteps) {
      await host.yield();
      if (host.cancelRequested()) {
        history.log.push(`cancelled after step ${step}`);
        host.send({ type: 'cancelled', step });
        return;
      }
      const p = trainer.trainStep();
      step = p.step;
      history.tokensSeen += p.tokens;
      const evaluate = step % h.evalEvery === 0 || step === job.totalSteps;
      const point: LossPoint = { step, loss: p.loss, lr: p.lr, tokensPerSecond: p.tokensPerSecond, heldOutLoss: evaluate ? heldOutLoss() : null };
      history.points.push(point);
      const progress: ProgressReport = {
        step,
        loss: p.loss,
        learningRate: p.lr,
        tokensPerSecond: p.tokensPerSecond,
        tokensSeen: history.tokensSeen,
        heldOutLoss: point.heldOutLoss ?? null,
      };
      host.send({ type: 'progress', progress });
      if (step % h.checkpointEvery === 0 && step < job.totalSteps) {
        const dir = path.join(job.outDir, `checkpoint-${step}`);
        trainer.saveCheckpoint(dir);
        fs.writeFileSync(path.join(dir, LOSS_HISTORY_FILE), JSON.stringify(history));
        host.send({ type: 'checkpoint', step, dir, files: fs.readdirSync(dir).sort() });
      }
    }

    const dir = path.join(job.outDir, 'artifacts');
    fs.mkdirSync(dir, { recursive: true });
    if (adapters) adapters.save(dir, { baseModelNameOrPath: `trellis-base-model-${path.basename(job.baseModelDir)}` });
    else {
      await writeBaseCheckpoint(dir, { model: base.model, config: base.config, tokenizer: base.tokenizer });
    }
    // What the trained model says on one example, so that anyone can check that the stored
    // adapter or weights, loaded back (loadLora), give the same logits.
    const probeItem = manifest.items.find((i) => i.split === 'held-out') ?? manifest.items[0];
    const probePair = pairs(probeItem)[0];
    const probeBatch = collate([{ rgb: images.get(probeItem.imageSha256)!, size, example: buildTrainingExample(base.tokenizer, probePair) }]);
    task.setTraining?.(false);
    const probeLogits = tf.tidy(() => base.model.forward(probeBatch).flatten().slice(0, PROBE_LOGITS));
    const probe = { itemId: probeItem.itemId, imageSha256: probeItem.imageSha256, pair: probePair, logits: Array.from(probeLogits.dataSync()) };
    probeLogits.dispose();
    tf.dispose(probeBatch as unknown as tf.TensorContainer);
    fs.writeFileSync(path.join(dir, 'probe_logits.json'), JSON.stringify(probe));
    const last = history.points[history.points.length - 1];
    const finalHeldOut = [...history.points].reverse().find((q) => q.heldOutLoss !== null && q.heldOutLoss !== undefined)?.heldOutLoss ?? null;
    fs.writeFileSync(
      path.join(dir, 'training_config.json'),
      JSON.stringify({ runId: job.runId, method: job.method, totalSteps: job.totalSteps, backend: report.name, hyperparameters: h }, null, 2),
    );
    fs.writeFileSync(path.join(dir, 'loss.csv'), lossCurveCsv(history.points));
    fs.writeFileSync(path.join(dir, 'loss.png'), lossCurvePng(history.points, { title: `run ${job.runId}` }));
    history.log.push(`completed ${step} steps; final train loss ${last.loss}, held-out loss ${finalHeldOut}`);
    trainer.dispose();
    trainer = null;
    adapters = null;
    for (const m of models.splice(0)) m.dispose();
    const tensorsAfter = tf.memory().numTensors;
    history.log.push(`tensors alive: ${before} before the run, ${tensorsAfter} after`);
    fs.writeFileSync(path.join(dir, 'training.log'), history.log.join('\n') + '\n');
    const completion: CompletionReport = {
      dir,
      files: fs.readdirSync(dir).sort(),
      steps: step,
      finalTrainLoss: last.loss,
      finalHeldOutLoss: finalHeldOut,
      baseHeldOutLoss: history.baseHeldOutLoss,
      tokensSeen: history.tokensSeen,
      wallSeconds: (Date.now() - started) / 1000,
      tensorsBefore: before,
      tensorsAfter,
    };
    host.send({ type: 'completed', report: completion });
  } catch (err) {
    if (err instanceof TrainingException && err.code === TrainingErrorCode.Diverged) {
      host.send({ type: 'failed', code: 'DIVERGED', reason: err.message, step: err.step ?? step });
    } else {
      const code = /checkpoint|config\.json|safetensors|tokenizer/i.test(String((err as Error)?.message)) ? 'BASE_MODEL_INVALID' : 'INTERNAL';
      host.send({ type: 'failed', code, reason: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`, step });
    }
  } finally {
    trainer?.dispose();
    for (const m of models) m.dispose();
  }
}
