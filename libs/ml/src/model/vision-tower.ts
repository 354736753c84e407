import * as tf from '@tensorflow/tfjs-core';
import '../backend/tfjs-registrations';
import { attention } from '../layers/attention';
import { denseForward } from '../layers/dense';
import { Linear } from '../layers/linear';
import { twoLayerMlp } from '../layers/mlp';
import { LayerNorm } from '../layers/norms';
import { SeededRandom } from '../layers/seeded-random';
import { LinearRegistry, ParameterStore } from './linear-registry';
import { type VisionConfig, numPatches, validateVisionConfig } from './model-config';
import { ModelErrorCode, ModelException } from './model.exception';

/** CLIP image-processor normalisation; the model takes pixels in 0..1 and applies it itself. */
export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711];

export interface VisionTowerOptions {
  /** HF prefix; 'vision_tower.vision_model.' inside LLaVA. */
  prefix?: string;
  linears?: LinearRegistry;
  params?: ParameterStore;
}

/**
 * CLIP-style ViT (HF CLIPVisionModel layout): patch embedding (a conv with stride = kernel =
 * patch, computed as a linear over flattened (channel, row, column) patches with the conv's
 * weight [hidden, C, p, p]), optional class token, learned position embeddings,
 * pre_layrnorm, pre-norm encoder blocks (LayerNorm, attention, residual, LayerNorm, MLP,
 * residual), post_layernorm (kept for checkpoints; LLaVA features skip it).
 */
export class VisionTower {
  readonly config: VisionConfig;
  readonly patchEmbedding: tf.Variable;
  readonly classEmbedding: tf.Variable | null;
  readonly positionEmbedding: tf.Variable;
  private readonly prefix: string;
  private readonly linears: LinearRegistry;
  private readonly params: ParameterStore;
  private readonly ownsStores: boolean;
  private readonly preNorm: LayerNorm;
  private readonly postNorm: LayerNorm;
  private readonly norms1: LayerNorm[] = [];
  private readonly norms2: LayerNorm[] = [];

  constructor(config: VisionConfig, seed = 0, options: VisionTowerOptions = {}) {
    validateVisionConfig(config);
    this.config = { useClassToken: true, hiddenAct: 'quick_gelu', ...config };
    this.prefix = options.prefix ?? 'vision_model.';
    this.ownsStores = !options.linears;
    this.linears = options.linears ?? new LinearRegistry();
    this.params = options.params ?? new ParameterStore();
    const rng = new SeededRandom(seed);
    const c = this.config;
    const h = c.hiddenSize;
    const p = this.prefix;
    const patchIn = c.numChannels * c.patchSize * c.patchSize;
    const bound = 1 / Math.sqrt(patchIn); // torch Conv2d default init
    const patchShape = [h, c.numChannels, c.patchSize, c.patchSize];
    this.patchEmbedding = this.addParam(`${p}embeddings.patch_embedding.weight`, rng.fillUniform(h * patchIn, -bound, bound), patchShape);
    this.classEmbedding = c.useClassToken ? this.addParam(`${p}embeddings.class_embedding`, rng.fillNormal(h, 1 / Math.sqrt(h)), [h]) : null;
    const positions = numPatches(c) + (c.useClassToken ? 1 : 0);
    this.positionEmbedding = this.addParam(`${p}embeddings.position_embedding.weight`, rng.fillNormal(positions * h, 0.02), [positions, h]);
    this.preNorm = this.addLayerNorm(`${p}pre_layrnorm`);
    for (let i = 0; i < c.numHiddenLayers; i++) {
      const layer = `${p}encoder.layers.${i}`;
      for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
        this.linears.add(new Linear(`${layer}.self_attn.${proj}`, h, h, { seed: rng.fork() }));
      }
      this.linears.add(new Linear(`${layer}.mlp.fc1`, h, c.intermediateSize, { seed: rng.fork() }));
      this.linears.add(new Linear(`${layer}.mlp.fc2`, c.intermediateSize, h, { seed: rng.fork() }));
      this.norms1.push(this.addLayerNorm(`${layer}.layer_norm1`));
      this.norms2.push(this.addLayerNorm(`${layer}.layer_norm2`));
    }
    this.postNorm = this.addLayerNorm(`${p}post_layernorm`);
  }

  private addParam(name: string, values: Float32Array, shape: number[]): tf.Variable {
    const t = tf.tensor(values, shape);
    const v = this.params.add(name, tf.variable(t, true));
    t.dispose();
    return v;
  }

  private addLayerNorm(name: string): LayerNorm {
    const norm = new LayerNorm(name, this.config.hiddenSize, this.config.layerNormEps);
    this.params.add(`${name}.weight`, norm.weight);
    this.params.add(`${name}.bias`, norm.bias);
    return norm;
  }

  get numPositions(): number {
    return this.positionEmbedding.shape[0];
  }

  /** pixelValues [B, H, W, C] in 0..1 -> flattened patches [B, numPatches, C·p·p] in (channel, row, column) order. */
  private patches(pixelValues: tf.Tensor): tf.Tensor {
    const c = this.config;
    const [b, height, width, channels] = pixelValues.shape;
    if (pixelValues.rank !== 4 || height !== c.imageSize || width !== c.imageSize || channels !== c.numChannels) {
      throw new ModelException(
        ModelErrorCode.InvalidInput,
        `VisionTower: pixelValues must be [B, ${c.imageSize}, ${c.imageSize}, ${c.numChannels}] (NHWC, 0..1), got [${pixelValues.shape.join(', ')}]`,
        ['pixelValues'],
      );
    }
    const g = c.imageSize / c.patchSize;
    const mean = c.numChannels === 3 ? CLIP_IMAGE_MEAN : new Array(c.numChannels).fill(0.5);
    const std = c.numChannels === 3 ? CLIP_IMAGE_STD : new Array(c.numChannels).fill(0.5);
    const normalised = tf.div(tf.sub(pixelValues, tf.tensor1d(mean)), tf.tensor1d(std));
    const grid = tf.reshape(normalised, [b, g, c.patchSize, g, c.patchSize, c.numChannels]);
    return tf.reshape(tf.transpose(grid, [0, 1, 3, 5, 2, 4]), [b, g * g, c.numChannels * c.patchSize * c.patchSize]);
  }

  /**
   * Hidden state number `index` of [embeddings after pre_layrnorm, layer 1 output, ...,
   * layer N output] (HF output_hidden_states order; negative counts from the end), without
   * running the layers after it.
   */
  hiddenState(pixelValues: tf.Tensor, index: number): tf.Tensor {
    const c = this.config;
    const count = c.numHiddenLayers + 1;
    const resolved = index < 0 ? count + index : index;
    if (!Number.isInteger(resolved) || resolved < 0 || resolved >= count) {
      throw new ModelException(ModelErrorCode.InvalidInput, `VisionTower: hidden state index ${index} is outside [${-count}, ${count - 1}]`, ['index']);
    }
    return tf.tidy(() => {
      const patches = this.patches(pixelValues);
      const b = patches.shape[0];
      let hidden = denseForward(patches, tf.reshape(this.patchEmbedding, [c.hiddenSize, -1]), null, 'VisionTower patch_embedding');
      if (this.classEmbedding) {
        const cls = tf.tile(tf.reshape(this.classEmbedding, [1, 1, c.hiddenSize]), [b, 1, 1]);
        hidden = tf.concat([cls, hidden], 1);
      }
      hidden = this.preNorm.apply(tf.add(hidden, this.positionEmbedding));
      const heads = c.numAttentionHeads;
      for (let i = 0; i < resolved; i++) {
        const layer = `${this.prefix}encoder.layers.${i}`;
        const get = (name: string) => this.linears.get(`${layer}.${name}`);
        const attn = attention(
          this.norms1[i].apply(hidden),
          { q: get('self_attn.q_proj'), k: get('self_attn.k_proj'), v: get('self_attn.v_proj'), o: get('self_attn.out_proj') },
          { numHeads: heads, numKeyValueHeads: heads, headDim: c.hiddenSize / heads },
        );
        hidden = tf.add(hidden, attn.output);
        hidden = tf.add(hidden, twoLayerMlp(this.norms2[i].apply(hidden), get('mlp.fc1'), c.hiddenAct ?? 'quick_gelu', get('mlp.fc2')));
      }
      return hidden;
    });
  }

  /** Patch features [B, numPatches, hidden] from hidden state `featureLayer`, class token excluded (LLaVA "default"). */
  patchFeatures(pixelValues: tf.Tensor, featureLayer: number): tf.Tensor {
    return tf.tidy(() => {
      const hidden = this.hiddenState(pixelValues, featureLayer);
      if (!this.classEmbedding) return hidden;
      const [b, t, h] = hidden.shape;
      return tf.slice(hidden, [0, 1, 0], [b, t - 1, h]);
    });
  }

  /**
   * Whether a parameter or layer name belongs to the part computed for hidden state
   * `index`: the layers after it and post_layernorm are not, so they get no gradient.
   */
  usedFor(index: number): (name: string) => boolean {
    const count = this.config.numHiddenLayers + 1;
    const resolved = index < 0 ? count + index : index;
    const layerPrefix = `${this.prefix}encoder.layers.`;
    return (name) => {
      if (!name.startsWith(this.prefix)) return true;
      if (name.startsWith(`${this.prefix}post_layernorm.`)) return false;
      if (!name.startsWith(layerPrefix)) return true;
      return Number(name.slice(layerPrefix.length).split('.')[0]) < resolved;
    };
  }

  /** Final output with post_layernorm applied (HF last_hidden_state is before it; pooled output uses it). */
  postLayerNorm(hidden: tf.Tensor): tf.Tensor {
    return this.postNorm.apply(hidden);
  }

  dispose(): void {
    if (this.ownsStores) {
      this.params.dispose();
      this.linears.dispose();
    }
  }
}
