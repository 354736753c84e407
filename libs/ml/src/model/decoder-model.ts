import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { causalMask, paddedCausalMask, positionsFromMask } from '../layers/attention-mask';
import { embeddingLookup } from '../layers/embedding';
import { attention } from '../layers/attention';
import { denseForward } from '../layers/dense';
import { Linear, type LinearHost, type LinearLike } from '../layers/linear';
import { swiGluMlp } from '../layers/mlp';
import { RmsNorm } from '../layers/norms';
import { RotaryEmbedding } from '../layers/rotary-embedding';
import { SeededRandom } from '../layers/seeded-random';
import '../backend/tfjs-registrations';
import { causalLmLoss } from './causal-lm-loss';
import { argMax, decodeLoop, type GenerationOptions, lastPositionScores, validateGenerationOptions } from './generation';
import { KvCache } from './kv-cache';
import { ModelErrorCode, ModelException } from './model.exception';
import { LinearRegistry, ParameterStore } from './linear-registry';
import { type MistralConfig, resolvedHeadDim, validateMistralConfig } from './model-config';

/** HF initializer_range default for Mistral/Llama embeddings. */
const EMBEDDING_STD = 0.02;

/** lm_head sharing the embedding matrix (tie_word_embeddings): not a parameter of its own. */
export class TiedLmHead implements LinearLike {
  constructor(
    private readonly embedding: tf.Variable,
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {}

  apply(x: tf.Tensor): tf.Tensor {
    return denseForward(x, this.embedding, null, 'lm_head (tied to embed_tokens)');
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    // The embedding owns the variable.
  }
}

export interface DecoderModelOptions {
  /** Prefix of every HF name, e.g. 'language_model.' inside LLaVA. */
  prefix?: string;
  /** Share a registry with an enclosing model so its LinearHost sees these layers. */
  linears?: LinearRegistry;
  params?: ParameterStore;
}

/**
 * Mistral / Llama decoder-only language model (HF MistralForCausalLM layout): embed_tokens,
 * N × [input_layernorm, self-attention with rotary embeddings and grouped-query heads,
 * post_attention_layernorm, SwiGLU MLP] with residuals, final norm, lm_head.
 */
export class DecoderModel implements LinearHost {
  readonly config: MistralConfig;
  readonly headDim: number;
  readonly embedTokens: tf.Variable;
  private readonly prefix: string;
  private readonly linears: LinearRegistry;
  private readonly params: ParameterStore;
  private readonly ownsStores: boolean;
  private readonly inputNorms: RmsNorm[] = [];
  private readonly postAttentionNorms: RmsNorm[] = [];
  private readonly finalNorm: RmsNorm;
  private readonly rotary: RotaryEmbedding;
  private readonly tiedHead: TiedLmHead | null;

  constructor(config: MistralConfig, seed = 0, options: DecoderModelOptions = {}) {
    validateMistralConfig(config);
    this.config = { ...config };
    this.headDim = resolvedHeadDim(config);
    this.prefix = options.prefix ?? '';
    this.ownsStores = !options.linears;
    this.linears = options.linears ?? new LinearRegistry();
    this.params = options.params ?? new ParameterStore();
    const rng = new SeededRandom(seed);
    const h = config.hiddenSize;
    const p = this.prefix;

    const embed = tf.tensor2d(rng.fillNormal(config.vocabSize * h, EMBEDDING_STD), [config.vocabSize, h]);
    this.embedTokens = this.params.add(`${p}model.embed_tokens.weight`, tf.variable(embed, true));
    embed.dispose();

    const qOut = config.numAttentionHeads * this.headDim;
    const kvOut = config.numKeyValueHeads * this.headDim;
    for (let i = 0; i < config.numHiddenLayers; i++) {
      const layer = `${p}model.layers.${i}`;
      const add = (name: string, inF: number, outF: number) => this.linears.add(new Linear(`${layer}.${name}`, inF, outF, { bias: false, seed: rng.fork() }));
      add('self_attn.q_proj', h, qOut);
      add('self_attn.k_proj', h, kvOut);
      add('self_attn.v_proj', h, kvOut);
      add('self_attn.o_proj', qOut, h);
      add('mlp.gate_proj', h, config.intermediateSize);
      add('mlp.up_proj', h, config.intermediateSize);
      add('mlp.down_proj', config.intermediateSize, h);
      const inputNorm = new RmsNorm(`${layer}.input_layernorm`, h, config.rmsNormEps);
      const postNorm = new RmsNorm(`${layer}.post_attention_layernorm`, h, config.rmsNormEps);
      this.params.add(`${inputNorm.name}.weight`, inputNorm.weight);
      this.params.add(`${postNorm.name}.weight`, postNorm.weight);
      this.inputNorms.push(inputNorm);
      this.postAttentionNorms.push(postNorm);
    }
    this.finalNorm = new RmsNorm(`${p}model.norm`, h, config.rmsNormEps);
    this.params.add(`${p}model.norm.weight`, this.finalNorm.weight);
    if (config.tieWordEmbeddings) {
      this.tiedHead = new TiedLmHead(this.embedTokens, h, config.vocabSize);
    } else {
      this.tiedHead = null;
      this.linears.add(new Linear(`${p}lm_head`, h, config.vocabSize, { bias: false, seed: rng.fork() }));
    }
    this.rotary = new RotaryEmbedding(this.headDim, config.ropeTheta);
  }

  /** Token embeddings [B, T, hidden] for int32 ids [B, T]; ids are range-checked. */
  embed(inputIds: tf.Tensor): tf.Tensor {
    if (inputIds.rank !== 2) {
      throw new ModelException(ModelErrorCode.InvalidInput, `DecoderModel: inputIds must be [B, T], got shape [${inputIds.shape.join(', ')}]`, ['inputIds']);
    }
    const ids = inputIds.dataSync();
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= this.config.vocabSize) {
        throw new ModelException(
          ModelErrorCode.InvalidInput,
          `DecoderModel: token id ${ids[i]} at flat index ${i} is outside the vocabulary [0, ${this.config.vocabSize})`,
          ['inputIds'],
        );
      }
    }
    return tf.tidy(() => embeddingLookup(this.embedTokens, inputIds));
  }

  /**
   * Reads an attention mask [B, pastLength + T] of 0/1 (1 = token, 0 = padding), refusing any
   * other shape or value, so a wrong mask fails here instead of computing wrong logits.
   */
  private maskRows(attentionMask: tf.Tensor, batch: number, keyLength: number): number[][] {
    if (attentionMask.rank !== 2 || attentionMask.shape[0] !== batch || attentionMask.shape[1] !== keyLength) {
      const message = `DecoderModel: attentionMask must be [${batch}, ${keyLength}] (batch, cached + new positions), got [${attentionMask.shape.join(', ')}]`;
      throw new ModelException(ModelErrorCode.InvalidInput, message, ['attentionMask']);
    }
    const values = attentionMask.dataSync();
    const bad = values.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0)
      throw new ModelException(ModelErrorCode.InvalidInput, `DecoderModel: attentionMask holds ${values[bad]} at flat index ${bad}; only 0 and 1`, [
        'attentionMask',
      ]);
    return Array.from({ length: batch }, (_, b) => Array.from(values.subarray(b * keyLength, (b + 1) * keyLength)));
  }

  /**
   * Logits [B, T, vocab] for input embeddings [B, T, hidden]. With a cache, the positions
   * continue after the cached ones and the cache is extended. With an attention mask
   * [B, cached + T] (1 = token, 0 = padding, as transformers takes it) padded keys are not
   * attended and each row's positions count its tokens only (cumsum(mask) - 1, as generate()
   * passes them), so a left-padded row computes what it would alone.
   */
  forwardEmbeddings(embeddings: tf.Tensor, cache?: KvCache, attentionMask?: tf.Tensor): tf.Tensor {
    const c = this.config;
    if (embeddings.rank !== 3 || embeddings.shape[2] !== c.hiddenSize) {
      const message = `DecoderModel: embeddings must be [B, T, ${c.hiddenSize}], got [${embeddings.shape.join(', ')}]`;
      throw new ModelException(ModelErrorCode.InvalidInput, message, ['embeddings']);
    }
    const past = cache?.length ?? 0;
    const t = embeddings.shape[1]!;
    if (past + t > c.maxPositionEmbeddings) {
      const message = `DecoderModel: ${past + t} positions exceed maxPositionEmbeddings ${c.maxPositionEmbeddings}`;
      throw new ModelException(ModelErrorCode.InvalidInput, message, ['embeddings']);
    }
    const rows = attentionMask ? this.maskRows(attentionMask, embeddings.shape[0]!, past + t) : null;
    return tf.tidy(() => {
      const { cos, sin } = rows ? this.rotary.cosSinAt(positionsFromMask(rows, t)) : this.rotary.cosSin(t, past);
      const mask = rows ? paddedCausalMask(rows, t, c.slidingWindow) : causalMask(t, past, c.slidingWindow);
      let hidden = embeddings;
      for (let i = 0; i < c.numHiddenLayers; i++) {
        const layer = `${this.prefix}model.layers.${i}`;
        const get = (name: string) => this.linears.get(`${layer}.${name}`);
        const result = attention(
          this.inputNorms[i].apply(hidden),
          { q: get('self_attn.q_proj'), k: get('self_attn.k_proj'), v: get('self_attn.v_proj'), o: get('self_attn.o_proj') },
          {
            numHeads: c.numAttentionHeads,
            numKeyValueHeads: c.numKeyValueHeads,
            headDim: this.headDim,
            rotary: { cos, sin },
            mask,
            past: cache?.layer(i),
          },
        );
        if (cache) cache.update(i, result.key, result.value);
        hidden = tf.add(hidden, result.output);
        const mlpOut = swiGluMlp(this.postAttentionNorms[i].apply(hidden), {
          gate: get('mlp.gate_proj'),
          up: get('mlp.up_proj'),
          down: get('mlp.down_proj'),
        });
        hidden = tf.add(hidden, mlpOut);
      }
      return this.lmHead().apply(this.finalNorm.apply(hidden));
    });
  }

  forward(input: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }, cache?: KvCache): tf.Tensor3D {
    return tf.tidy(() => {
      const embeddings = this.embed(input.inputIds);
      return this.forwardEmbeddings(embeddings, cache, input.attentionMask) as tf.Tensor3D;
    });
  }

  loss(input: { inputIds: tf.Tensor; labels: tf.Tensor }): tf.Scalar {
    return tf.tidy(() => causalLmLoss(this.forward({ inputIds: input.inputIds }), input.labels));
  }

  /**
   * Continues promptIds (batch of one) with a KV cache: the prompt is run once, then one
   * token per step. Returns the new tokens (EOS included when reached).
   */
  generate(promptIds: number[], options: GenerationOptions): number[] {
    if (promptIds.length === 0) throw new ModelException(ModelErrorCode.InvalidInput, 'DecoderModel.generate: promptIds is empty', ['promptIds']);
    const needed = promptIds.length + options.maxNewTokens - 1;
    if (needed > this.config.maxPositionEmbeddings) {
      throw new ModelException(
        ModelErrorCode.InvalidInput,
        `DecoderModel.generate: prompt ${promptIds.length} + maxNewTokens ${options.maxNewTokens} exceeds maxPositionEmbeddings ${this.config.maxPositionEmbeddings}`,
        ['maxNewTokens'],
      );
    }
    const cache = this.createCache();
    try {
      return decodeLoop(
        () => tf.tidy(() => this.forward({ inputIds: tf.tensor2d([promptIds], [1, promptIds.length], 'int32') }, cache)),
        (token) => tf.tidy(() => this.forward({ inputIds: tf.tensor2d([[token]], [1, 1], 'int32') }, cache)),
        options,
      );
    } finally {
      cache.dispose();
    }
  }

  /**
   * Greedy continuation of several prompts at once, as transformers' generate() does it for a
   * batch: prompts left-padded with padId (default 0) under an attention mask, a KV cache, one
   * token per row per step; a row that emitted eosId is fed padId from then on (its output
   * ends with the EOS). Returns each row's new tokens.
   */
  generateBatch(prompts: number[][], options: GenerationOptions & { padId?: number }): number[][] {
    validateGenerationOptions(options);
    if (prompts.length === 0 || prompts.some((p) => p.length === 0))
      throw new ModelException(ModelErrorCode.InvalidInput, 'DecoderModel.generateBatch: needs at least one prompt, none empty', ['prompts']);
    if ((options.strategy ?? 'greedy') !== 'greedy')
      throw new ModelException(ModelErrorCode.InvalidInput, 'DecoderModel.generateBatch: only greedy decoding; use generate() per prompt to sample', [
        'strategy',
      ]);
    const padId = options.padId ?? 0;
    const width = Math.max(...prompts.map((p) => p.length));
    if (width + options.maxNewTokens - 1 > this.config.maxPositionEmbeddings) {
      throw new ModelException(
        ModelErrorCode.InvalidInput,
        `DecoderModel.generateBatch: prompt ${width} + maxNewTokens ${options.maxNewTokens} exceeds maxPositionEmbeddings ${this.config.maxPositionEmbeddings}`,
        ['maxNewTokens'],
      );
    }
    const mask = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
    const ids = prompts.map((p) => [...new Array<number>(width - p.length).fill(padId), ...p]);
    const outputs = prompts.map((): number[] => []);
    const done = prompts.map(() => false);
    const cache = this.createCache();
    const pick = (logits: tf.Tensor): number[] => lastPositionScores(logits, options.suppressTokens).map(argMax);
    try {
      if (options.maxNewTokens === 0) return outputs;
      let next = pick(tf.tidy(() => this.forward({ inputIds: tf.tensor2d(ids, [ids.length, width], 'int32'), attentionMask: tf.tensor2d(mask) }, cache)));
      for (let step = 1; ; step++) {
        next.forEach((token, row) => {
          if (done[row]) return;
          outputs[row].push(token);
          if (token === options.eosId) done[row] = true;
        });
        if (step === options.maxNewTokens || done.every(Boolean)) return outputs;
        // transformers extends the mask with ones for every row, finished or not.
        mask.forEach((row) => row.push(1));
        const feed = next.map((token, row) => (done[row] ? padId : token));
        next = pick(
          tf.tidy(() =>
            this.forward(
              {
                inputIds: tf.tensor2d(
                  feed.map((token) => [token]),
                  [feed.length, 1],
                  'int32',
                ),
                attentionMask: tf.tensor2d(mask),
              },
              cache,
            ),
          ),
        );
      }
    } finally {
      cache.dispose();
    }
  }

  createCache(): KvCache {
    return new KvCache(this.config.numHiddenLayers);
  }

  private lmHead(): LinearLike {
    return this.tiedHead ?? this.linears.get(`${this.prefix}lm_head`);
  }

  linearLayers(): Map<string, LinearLike> {
    return this.linears.entries();
  }

  setLinear(name: string, layer: LinearLike): void {
    this.linears.set(name, layer);
  }

  trainableVariables(): tf.Variable[] {
    return [...this.params.trainableVariables(), ...this.linears.trainableVariables()];
  }

  setTrainable(flag: boolean): void {
    this.params.setTrainable(flag);
    this.linears.setTrainable(flag);
  }

  namedWeights(): Map<string, tf.Variable> {
    return new Map([...this.params.entries(), ...this.linears.namedWeights()]);
  }

  dispose(): void {
    if (this.ownsStores) {
      this.params.dispose();
      this.linears.dispose();
    }
  }
}
