import * as fs from 'node:fs';
import { countParameters, createTinyBaseModel, initMlBackend, readBaseCheckpoint, writeBaseCheckpoint } from '@trellis/ml';
import type { BaseModelJob, BaseModelReady } from './worker-protocol';
import type { JobHost } from './training-job';

/**
 * In the worker: makes the tiny preset base model (initialized and pre-trained on the synthetic
 * data set, then written as a Hugging Face-layout checkpoint), or inspects a checkpoint users
 * brought; either way the checkpoint is read back through the same loader a run uses, so a
 * registered base model is one a run can load, and what is registered is what was read.
 */
export async function runBaseModelJob(job: BaseModelJob, host: JobHost): Promise<void> {
  try {
    const backend = await initMlBackend();
    let dir: string;
    let pretraining: BaseModelReady['pretraining'] = null;
    if (job.kind === 'create') {
      const created = await createTinyBaseModel({ seed: job.seed, ...(job.steps !== null ? { steps: job.steps } : {}) });
      try {
        await writeBaseCheckpoint(job.outDir, { model: created.model, config: created.config, tokenizer: created.tokenizer });
      } finally {
        created.model.dispose();
      }
      dir = job.outDir;
      pretraining = {
        steps: created.steps,
        seed: job.seed,
        initialHeldOutLoss: created.initialHeldOutLoss,
        finalHeldOutLoss: created.finalHeldOutLoss,
        backend: backend.name,
      };
    } else dir = job.dir;
    const base = await readBaseCheckpoint(dir);
    try {
      const architecture: BaseModelReady['architecture'] = {
        modelType: 'llava',
        parameters: countParameters(base.config).total,
        vocabSize: base.config.text.vocabSize,
        hiddenSize: base.config.text.hiddenSize,
        layers: base.config.text.numHiddenLayers,
        imageSize: base.config.vision.imageSize,
        linearModules: [...base.model.linearLayers().keys()],
      };
      host.send({ type: 'base-model-ready', ready: { dir, files: fs.readdirSync(dir).sort(), architecture, pretraining } });
    } finally {
      base.model.dispose();
    }
  } catch (err) {
    host.send({ type: 'failed', code: 'BASE_MODEL_INVALID', reason: `${(err as Error)?.message ?? String(err)}`, step: null });
  }
}
