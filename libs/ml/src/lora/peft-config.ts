import { LoraErrorCode, LoraException } from './lora.exception';

/**
 * adapter_config.json as Hugging Face PEFT 0.21.2 writes it for a LoRA adapter
 * (`LoraConfig(...).save_pretrained`): every key PEFT writes, with PEFT's defaults for the
 * features we do not implement, so PEFT loads our adapters and ours load PEFT's plain LoRA
 * adapters. Key list taken from the file PEFT 0.21.2 saved for a tiny Mistral model.
 */
export interface PeftLoraConfigJson {
  alora_invocation_tokens: null;
  alpha_pattern: Record<string, number>;
  arrow_config: null;
  auto_mapping: null;
  base_model_name_or_path: string | null;
  bias: 'none';
  corda_config: null;
  ensure_weight_tying: boolean;
  eva_config: null;
  exclude_modules: null;
  fan_in_fan_out: boolean;
  inference_mode: boolean;
  init_lora_weights: boolean;
  kasa_config: null;
  layer_replication: null;
  layers_pattern: null;
  layers_to_transform: null;
  loftq_config: Record<string, never>;
  lora_alpha: number;
  lora_bias: boolean;
  lora_dropout: number;
  lora_ga_config: null;
  megatron_config: null;
  megatron_core: string;
  modules_to_save: null;
  monteclora_config: null;
  peft_type: 'LORA';
  peft_version: string;
  qalora_group_size: number;
  r: number;
  rank_pattern: Record<string, number>;
  revision: null;
  target_modules: string[];
  target_parameters: null;
  task_type: 'CAUSAL_LM';
  trainable_token_indices: null;
  use_bdlora: null;
  use_dora: boolean;
  use_qalora: boolean;
  use_rslora: boolean;
  velora_config: null;
}

export interface PeftConfigInput {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: readonly string[];
  useRslora: boolean;
  baseModelNameOrPath?: string | null;
  inferenceMode?: boolean;
}

/** The PEFT version whose file layout we write (recorded as PEFT records its own). */
export const PEFT_COMPAT_VERSION = '0.21.2';

export function buildPeftLoraConfig(c: PeftConfigInput): PeftLoraConfigJson {
  return {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: c.baseModelNameOrPath ?? null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: c.inferenceMode ?? true,
    init_lora_weights: true,
    kasa_config: null,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: c.alpha,
    lora_bias: false,
    lora_dropout: c.dropout,
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    monteclora_config: null,
    peft_type: 'LORA',
    peft_version: PEFT_COMPAT_VERSION,
    qalora_group_size: 16,
    r: c.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...new Set(c.targetModules)].sort(),
    target_parameters: null,
    task_type: 'CAUSAL_LM',
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: c.useRslora,
    velora_config: null,
  };
}

/**
 * Reads the fields we need from a PEFT adapter_config.json and refuses what we cannot apply
 * faithfully (DoRA, per-layer rank/alpha patterns, biases, fan_in_fan_out weights).
 */
export function parsePeftLoraConfig(json: unknown): Omit<PeftConfigInput, 'inferenceMode'> {
  const invalid = (message: string, field?: string) => new LoraException(LoraErrorCode.InvalidConfig, `adapter_config.json: ${message}`, field ? [field] : []);
  const unsupported = (message: string, field: string) => new LoraException(LoraErrorCode.UnsupportedConfig, `adapter_config.json: ${message}`, [field]);
  if (typeof json !== 'object' || json === null) throw invalid('not a JSON object');
  const c = json as Record<string, unknown>;
  if (c.peft_type !== 'LORA') throw unsupported(`peft_type is ${JSON.stringify(c.peft_type)}, only "LORA" is supported`, 'peft_type');
  const num = (key: string): number => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${key} must be a number, got ${JSON.stringify(v)}`, key);
    return v;
  };
  const features: [string, boolean][] = [
    ['use_dora', c.use_dora === true],
    ['fan_in_fan_out', c.fan_in_fan_out === true],
    ['bias', c.bias !== undefined && c.bias !== 'none'],
    ['rank_pattern', isNonEmptyObject(c.rank_pattern)],
    ['alpha_pattern', isNonEmptyObject(c.alpha_pattern)],
    ['lora_bias', c.lora_bias === true],
  ];
  for (const [key, bad] of features) {
    if (bad) throw unsupported(`${key}=${JSON.stringify(c[key])} is not supported`, key);
  }
  let targets: string[];
  if (Array.isArray(c.target_modules) && c.target_modules.every((t) => typeof t === 'string')) targets = c.target_modules as string[];
  else if (typeof c.target_modules === 'string') {
    throw unsupported('target_modules as a regular expression is not supported; give a list of module names', 'target_modules');
  } else throw invalid(`target_modules must be a list of names, got ${JSON.stringify(c.target_modules)}`, 'target_modules');
  return {
    r: num('r'),
    alpha: num('lora_alpha'),
    dropout: c.lora_dropout === undefined ? 0 : num('lora_dropout'),
    targetModules: targets,
    useRslora: c.use_rslora === true,
    baseModelNameOrPath: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null,
  };
}

function isNonEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length > 0;
}
