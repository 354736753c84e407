import * as tf from '@tensorflow/tfjs-core';
import '../backend/tfjs-registrations';
import { Linear, type LinearHost, type LinearLike } from '../layers/linear';
import { twoLayerMlp } from '../layers/mlp';
import { SeededRandom } from '../layers/seeded-random';
import { causalLmLoss, IGNORE_INDEX } from './causal-lm-loss';
import { DecoderModel } from './decoder-model';
import { decodeLoop, type GenerationOptions } from './generation';
import { LinearRegistry, ParameterStore } from './linear-registry';
import { type MultimodalConfig, numPatches, validateMultimodalConfig } from './model-config';
import { ModelErrorCode, ModelException } from './model.exception';
import { VisionTower } from './vision-tower';

export interface MultimodalInput {
  /** [B, H, W, C] float, 0..1. */
  pixelValues: tf.Tensor;
  /** int32 [B, T], each row with exactly one image token. */
  inputIds: tf.Tensor;
}

/**
 * LLaVA-1.5-style model (HF llava-hf checkpoint names): vision_tower.vision_model.*,
 * multi_modal_projector.linear_1/linear_2, language_model.model.* and language_model.lm_head.
 * The patch features of one vision layer (class token dropped) are projected to the text
 * width and replace the single image placeholder token, so a row of T tokens becomes
 * T + numPatches - 1 positions.
 */
export class MultimodalModel implements LinearHost {
  readonly config: MultimodalConfig;
  readonly languageModel: DecoderModel;
  readonly visionTower: VisionTower;
  readonly numImageTokens: number;
  private readonly linears = new LinearRegistry();
  private readonly params = new ParameterStore();

  constructor(config: MultimodalConfig, seed = 0) {
    validateMultimodalConfig(config);
    this.config = { ...config, projector: { hiddenAct: 'gelu', ...config.projector } };
    const rng = new SeededRandom(seed);
    const stores = { linears: this.linears, params: this.params };
    this.visionTower = new VisionTower(config.vision, rng.fork(), { prefix: 'vision_tower.vision_model.', ...stores });
    this.linears.add(new Linear('multi_modal_projector.linear_1', config.vision.hiddenSize, config.text.hiddenSize, { seed: rng.fork() }));
    this.linears.add(new Linear('multi_modal_projector.linear_2', config.text.hiddenSize, config.text.hiddenSize, { seed: rng.fork() }));
    this.languageModel = new DecoderModel(config.text, rng.fork(), { prefix: 'language_model.', ...stores });
    this.numImageTokens = numPatches(config.vision);
  }

  /** Projected image features [B, numPatches, textHidden]. */
  imageFeatures(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      twoLayerMlp(
        this.visionTower.patchFeatures(pixelValues, this.config.visionFeatureLayer),
        this.linears.get('multi_modal_projector.linear_1'),
        this.config.projector.hiddenAct ?? 'gelu',
        this.linears.get('multi_modal_projector.linear_2'),
      ),
    );
  }

  /** Position of the image token in each row; exactly one per row. */
  imagePositions(inputIds: tf.Tensor): number[] {
    if (inputIds.rank !== 2)
      throw new ModelException(ModelErrorCode.InvalidInput, `MultimodalModel: inputIds must be [B, T], got [${inputIds.shape.join(', ')}]`, ['inputIds']);
    const [b, t] = inputIds.shape;
    const ids = inputIds.dataSync();
    const positions: number[] = [];
    for (let i = 0; i < b; i++) {
      const found: number[] = [];
      for (let j = 0; j < t; j++) if (ids[i * t + j] === this.config.imageTokenId) found.push(j);
      if (found.length !== 1) {
        throw new ModelException(
          ModelErrorCode.InvalidInput,
          `MultimodalModel: row ${i} of inputIds has ${found.length} image tokens (id ${this.config.imageTokenId}) at [${found.join(', ')}]; exactly one is required`,
          ['inputIds'],
        );
      }
      positions.push(found[0]);
    }
    return positions;
  }

  /** Text embeddings with each row's image token replaced by its image's projected features: [B, T + numPatches - 1, hidden]. */
  mergedEmbeddings(input: MultimodalInput): tf.Tensor {
    const positions = this.imagePositions(input.inputIds);
    const b = input.inputIds.shape[0];
    if (input.pixelValues.shape[0] !== b) {
      throw new ModelException(ModelErrorCode.InvalidInput, `MultimodalModel: ${input.pixelValues.shape[0]} images for ${b} rows of inputIds`, ['pixelValues']);
    }
    return tf.tidy(() => {
      const text = this.languageModel.embed(input.inputIds);
      const image = this.imageFeatures(input.pixelValues);
      const [, t, h] = text.shape;
      const rows: tf.Tensor[] = [];
      for (let i = 0; i < b; i++) {
        const p = positions[i];
        const parts = [
          tf.slice(text, [i, 0, 0], [1, p, h]),
          tf.slice(image, [i, 0, 0], [1, this.numImageTokens, h]),
          tf.slice(text, [i, p + 1, 0], [1, t - p - 1, h]),
        ].filter((x) => x.shape[1]! > 0);
        rows.push(tf.concat(parts, 1));
      }
      return tf.concat(rows, 0);
    });
  }

  /** Labels aligned with the merged sequence: the image placeholder's label becomes numPatches ignored labels. */
  expandLabels(inputIds: tf.Tensor, labels: tf.Tensor): tf.Tensor2D {
    if (labels.rank !== 2 || labels.shape[0] !== inputIds.shape[0] || labels.shape[1] !== inputIds.shape[1]) {
      throw new ModelException(
        ModelErrorCode.InvalidInput,
        `MultimodalModel: labels [${labels.shape.join(', ')}] must have the shape of inputIds [${inputIds.shape.join(', ')}]`,
        ['labels'],
      );
    }
    const positions = this.imagePositions(inputIds);
    const [b, t] = labels.shape;
    const values = labels.dataSync();
    const n = this.numImageTokens;
    const out = new Int32Array(b * (t + n - 1));
    for (let i = 0; i < b; i++) {
      const row = Array.from(values.subarray(i * t, (i + 1) * t));
      const p = positions[i];
      const merged = [...row.slice(0, p), ...new Array(n).fill(IGNORE_INDEX), ...row.slice(p + 1)];
      out.set(merged, i * (t + n - 1));
    }
    return tf.tensor2d(out, [b, t + n - 1], 'int32');
  }

  /** Logits [B, T + numPatches - 1, vocab]. */
  forward(input: MultimodalInput): tf.Tensor3D {
    return tf.tidy(() => this.languageModel.forwardEmbeddings(this.mergedEmbeddings(input)) as tf.Tensor3D);
  }

  loss(input: MultimodalInput & { labels: tf.Tensor }): tf.Scalar {
    return tf.tidy(() => causalLmLoss(this.forward(input), this.expandLabels(input.inputIds, input.labels)));
  }

  /**
   * Answers one image + prompt (a single row containing the image token) with the KV cache.
   * The image token is never generated: a second one could not be filled with an image.
   */
  generate(input: { pixelValues: tf.Tensor; inputIds: number[] }, options: GenerationOptions): number[] {
    if (input.pixelValues.shape[0] !== 1) {
      const message = `MultimodalModel.generate: one image at a time, got ${input.pixelValues.shape[0]}`;
      throw new ModelException(ModelErrorCode.InvalidInput, message, ['pixelValues']);
    }
    const cache = this.languageModel.createCache();
    try {
      return decodeLoop(
        () =>
          tf.tidy(() => {
            const ids = tf.tensor2d([input.inputIds], [1, input.inputIds.length], 'int32');
            return this.languageModel.forwardEmbeddings(this.mergedEmbeddings({ pixelValues: input.pixelValues, inputIds: ids }), cache);
          }),
        (token) => tf.tidy(() => this.languageModel.forward({ inputIds: tf.tensor2d([[token]], [1, 1], 'int32') }, cache)),
        { ...options, suppressTokens: [...(options.suppressTokens ?? []), this.config.imageTokenId] },
      );
    } finally {
      cache.dispose();
    }
  }

  linearLayers(): Map<string, LinearLike> {
    return this.linears.entries();
  }

  setLinear(name: string, layer: LinearLike): void {
    this.linears.set(name, layer);
  }

  /**
   * Trainable variables that the loss depends on: vision layers after visionFeatureLayer and
   * the vision post_layernorm are left out (LLaVA never uses them, so their gradient is null).
   */
  trainableVariables(): tf.Variable[] {
    const used = this.visionTower.usedFor(this.config.visionFeatureLayer);
    return [...this.params.trainableVariables(used), ...this.linears.trainableVariables(used)];
  }

  setTrainable(flag: boolean): void {
    this.params.setTrainable(flag);
    this.linears.setTrainable(flag);
  }

  namedWeights(): Map<string, tf.Variable> {
    return new Map([...this.params.entries(), ...this.linears.namedWeights()]);
  }

  dispose(): void {
    this.params.dispose();
    this.linears.dispose();
  }
}
