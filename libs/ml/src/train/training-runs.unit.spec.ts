import * as tf from '@tensorflow/tfjs-core';
import { initMlBackend } from '../backend';
import { applyLora } from '../lora/lora-adapters';
import { MultimodalModel } from '../model/multimodal-model';
import { tinyMultimodalConfig, TinyMultimodalOverrides } from '../model/model-config';
import { QuantizedLinear, quantizeModel } from '../quant/quantized-linear';
import { collateSft, distillationTask, fullFineTuneTask, loraTask, SftItem, syntheticSftData, withTeacher } from './multimodal-sft';
import { evaluateLoss, Trainer, TrainerOptions } from './trainer';

/*
 * Short real training runs of the tiny LLaVA-style model on the synthetic data set: held-out
 * items come from subjects never trained on. Each run must bring the held-out loss below 0.7
 * of where it started. Step counts are small so the three runs stay within about two minutes under jest
 * (which runs tfjs' JavaScript kernels ~3x slower than plain node); cpu-blas backend when
 * OpenBLAS is installed, plain cpu otherwise.
 */
jest.setTimeout(240_000);

// Question/answer pairs only (short sequences), 16x16 patches (4 image tokens): cheap steps.
const data = syntheticSftData({ seed: 3, subjects: 15, itemsPerSubject: 2, captions: false });
const collate = (items: SftItem[]) => collateSft(items, data.tokenizer.padId);
const config = (o: TinyMultimodalOverrides = {}) =>
  tinyMultimodalConfig({ vocabSize: data.tokenizer.vocabSize, imageTokenId: data.tokenizer.imageId, ...o, vision: { patchSize: 16, ...o.vision } });
const STEPS = 10;
const options = (lr: number): TrainerOptions => ({ batchSize: 8, seed: 1, optimizer: { lr, weightDecay: 0 }, schedule: { warmupSteps: 2, totalSteps: STEPS } });
/** The language model and projector layers (the vision tower stays as it is, as in LLaVA tuning). */
const TEXT_AND_PROJECTOR = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head', 'linear_1', 'linear_2'];
const textAndProjector = (m: MultimodalModel) =>
  [...m.linearLayers().keys()].filter((n) => !n.startsWith('vision_tower.') && TEXT_AND_PROJECTOR.some((t) => n.endsWith(t)));

beforeAll(async () => {
  await initMlBackend();
});

describe('training runs on the synthetic data set', () => {
  it('has held-out subjects separate from the training ones', () => {
    expect(data.train.length).toBe(12 * 2 * 5); // 12 subjects x 2 images x 5 QA
    expect(data.heldOut.length).toBe(3 * 2 * 5);
  });

  it('LoRA lowers the held-out loss below 0.7 of the start', () => {
    const model = new MultimodalModel(config(), 1);
    const adapters = applyLora(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: textAndProjector(model), seed: 1 });
    const task = loraTask(model, adapters);
    const before = evaluateLoss(task, data.heldOut, collate, 15);
    const trainer = new Trainer(task, data.train, collate, options(0.03));
    trainer.train(STEPS);
    const after = evaluateLoss(task, data.heldOut, collate, 15);
    expect(after).toBeLessThan(0.7 * before);
    // The base stayed frozen: the model's trainable variables are exactly the adapters'.
    expect(new Set(model.trainableVariables())).toEqual(new Set(adapters.trainableVariables()));
    trainer.dispose();
    model.dispose();
  });

  it('QLoRA (NF4 base with double quantization + LoRA) lowers the held-out loss below 0.7 of the start', () => {
    const model = new MultimodalModel(config(), 1);
    const targets = textAndProjector(model);
    const report = quantizeModel(model, targets, { doubleQuant: true });
    expect(report.ratio).toBeLessThan(0.135);
    expect(model.linearLayers().get('language_model.model.layers.0.self_attn.q_proj')).toBeInstanceOf(QuantizedLinear);
    const adapters = applyLora(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: targets, seed: 1 });
    const task = loraTask(model, adapters);
    const before = evaluateLoss(task, data.heldOut, collate, 15);
    const trainer = new Trainer(task, data.train, collate, options(0.03));
    trainer.train(STEPS);
    const after = evaluateLoss(task, data.heldOut, collate, 15);
    expect(after).toBeLessThan(0.7 * before);
    trainer.dispose();
    model.dispose();
  });

  it('distillation into a smaller student lowers its held-out loss below 0.7 of the start', () => {
    // Teacher: the tiny model, fully fine-tuned briefly. Student: half the width, one layer;
    // the same 16x16 patching, so teacher and student logits cover the same positions.
    const teacher = new MultimodalModel(config(), 1);
    const teacherTrainer = new Trainer(fullFineTuneTask(teacher), data.train, collate, options(0.01));
    teacherTrainer.train(STEPS);
    teacherTrainer.dispose();
    teacher.setTrainable(false);

    const student = new MultimodalModel(
      config({
        text: { hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1 },
        vision: { hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 2 },
      }),
      2,
    );
    const ce = { loss: (b: ReturnType<typeof collate>) => student.loss(b) };
    const before = evaluateLoss(ce, data.heldOut, collate, 15);
    const teacherVars = teacher.namedWeights();
    const teacherBefore = new Map([...teacherVars].map(([n, v]) => [n, v.dataSync().slice()]));
    const trainer = new Trainer(distillationTask(student, { alpha: 0.5, temperature: 2 }), data.train, withTeacher(teacher, collate), options(0.02));
    trainer.train(STEPS);
    const after = evaluateLoss(ce, data.heldOut, collate, 15);
    expect(after).toBeLessThan(0.7 * before);
    // The teacher did not move.
    for (const [n, v] of teacherVars) expect(Array.from(v.dataSync())).toEqual(Array.from(teacherBefore.get(n)!));
    trainer.dispose();
    teacher.dispose();
    student.dispose();
    expect(tf.memory().numTensors).toBeLessThan(2000);
  });
});

describe('syntheticSftData', () => {
  it('holds out no subject when asked for none (slice(-0) once held out every subject and left training empty)', () => {
    const none = syntheticSftData({ seed: 3, subjects: 2, itemsPerSubject: 1, heldOutSubjects: 0 });
    expect(none.heldOut).toEqual([]);
    expect(none.train.length).toBeGreaterThan(0);
    const one = syntheticSftData({ seed: 3, subjects: 2, itemsPerSubject: 1, heldOutSubjects: 1 });
    expect(one.heldOut.length).toBeGreaterThan(0);
    expect(one.train.length + one.heldOut.length).toBe(none.train.length);
  });
});
