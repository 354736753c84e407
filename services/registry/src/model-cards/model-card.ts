import {
  EVALUATION_METRICS,
  EvaluationMetric,
  FLAG_TRIGGERS,
  LOWER_IS_BETTER,
  Metrics,
  ModelCardEdited,
  ModelCardField,
  ParameterCountSummary,
  REQUIRED_MODEL_CARD_FIELDS,
  SnapshotExclusionReason,
  TrainingMethod,
  TrainingPurpose,
} from '@trellis/contracts';

export type ModelCardFields = ModelCardEdited['data']['fields'];
export type FlagTrigger = (typeof FLAG_TRIGGERS)[number];

export interface ModelCardAnnotationSet {
  setId: string;
  projectId: string;
  version: number;
  contentSha256: string;
  datasetId: string;
  datasetVersion: number;
  itemCount: number;
  /** Null when the set was published without agreement figures (e.g. single annotation). */
  agreement: { meanItemAgreement: number | null; acceptedWithoutAdjudication: number; adjudicated: number } | null;
}

export interface ModelCardEvaluation {
  evaluationId: string;
  annotationSet: { setId: string; version: number; contentSha256: string };
  itemCount: number;
  metrics: Metrics;
  completedAt: string;
}

/**
 * Everything a card states, gathered by the caller from the read models; rendering is pure.
 * Flags carry counts only: the card may be published, pseudonymous subject ids stay out of it.
 */
export interface ModelCardFacts {
  modelName: string;
  version: number;
  modelVersionId: string;
  registeredAt: string;
  method: TrainingMethod;
  baseModel: { id: string; manifestSha256: string; preset: string | null };
  parameters: ParameterCountSummary;
  /** Null for a manually registered version. */
  run: { runId: string; requestedBy: string } | null;
  snapshot: {
    manifestSha256: string;
    merkleRoot: string;
    includedItems: number;
    includedSubjects: number;
    heldOutItems: number;
    consentAsOf: string;
    excluded: readonly { reason: SnapshotExclusionReason; count: number }[];
  } | null;
  /** The consent purpose the training data was used under. */
  purpose: TrainingPurpose | null;
  annotationSets: readonly ModelCardAnnotationSet[];
  /**
   * One entry per de-identification profile applied to the snapshot's assets (DICOM and plain
   * images are treated differently, so one profile cannot describe a mixed snapshot); empty when
   * nothing was recorded.
   */
  deidentification: readonly { profile: string; assets: number }[];
  evaluations: readonly ModelCardEvaluation[];
  aliases: readonly string[];
  flags: readonly { trigger: FlagTrigger; subjectsAffected: number; itemsAffected: number }[];
  archived: boolean;
  /** The latest ModelCardEdited of the version, or null when nobody has edited its card yet. */
  card: { revision: number; fields: ModelCardFields } | null;
}

const isBlank = (text: string | null | undefined): text is null | undefined => text === null || text === undefined || text.trim() === '';

/** The required people-written fields that are missing or blank, in REQUIRED_MODEL_CARD_FIELDS order. */
export function missingCardFields(fields: Partial<Record<ModelCardField, string | null>> | null): ModelCardField[] {
  return REQUIRED_MODEL_CARD_FIELDS.filter((field) => isBlank(fields?.[field]));
}

// ---------------------------------------------------------------------------------------------
// YAML: a tiny block-style emitter for the metadata we write. Every string is double-quoted with
// escapes, so no value can be read as another type (`no`, `1e3`, `null`), start a comment, or
// span lines; no line of the front matter can therefore be the `---` that closes it.

type YamlValue = string | number | boolean | readonly YamlValue[] | YamlMap;
interface YamlMap {
  readonly [key: string]: YamlValue | undefined;
}

function yamlString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    // C0/C1 controls and DEL are refused raw by YAML readers; NEL, LS and PS are line breaks in
    // YAML 1.1; BOM and noncharacters are refused; a lone surrogate cannot be written as UTF-8.
    else if (
      cp < 0x20 ||
      (cp >= 0x7f && cp <= 0x9f) ||
      cp === 0x2028 ||
      cp === 0x2029 ||
      (cp >= 0xd800 && cp <= 0xdfff) ||
      cp === 0xfeff ||
      cp === 0xfffe ||
      cp === 0xffff
    )
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** YAML 1.1 (PyYAML, the Hub) reads `1e-7` as a string: a float needs a dot and a signed exponent. */
function yamlNumber(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (!Number.isFinite(x)) return x > 0 ? '.inf' : '-.inf';
  const text = String(x);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const mantissa = text.slice(0, e);
  const exponent = text.slice(e + 1);
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${/^[+-]/.test(exponent) ? exponent : `+${exponent}`}`;
}

const isScalar = (v: YamlValue): v is string | number | boolean => typeof v !== 'object';
const yamlScalar = (v: string | number | boolean) => (typeof v === 'string' ? yamlString(v) : typeof v === 'number' ? yamlNumber(v) : String(v));
const yamlKey = (key: string) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : yamlString(key));

function yamlEntry(prefix: string, indent: string, value: YamlValue): string[] {
  if (isScalar(value)) return [`${prefix} ${yamlScalar(value)}`];
  if (Array.isArray(value)) return value.length === 0 ? [`${prefix} []`] : [prefix, ...yamlSequence(value, `${indent}  `)];
  const map = value as YamlMap;
  return Object.values(map).every((v) => v === undefined) ? [`${prefix} {}`] : [prefix, ...yamlMapping(map, `${indent}  `)];
}

function yamlMapping(map: YamlMap, indent: string): string[] {
  return Object.entries(map).flatMap(([key, value]) => (value === undefined ? [] : yamlEntry(`${indent}${yamlKey(key)}:`, indent, value)));
}

function yamlSequence(items: readonly YamlValue[], indent: string): string[] {
  return items.flatMap((item) => {
    if (isScalar(item) || Array.isArray(item)) return yamlEntry(`${indent}-`, indent, item);
    const lines = yamlMapping(item as YamlMap, `${indent}  `);
    if (lines.length === 0) return [`${indent}- {}`];
    return [`${indent}- ${lines[0].slice(indent.length + 2)}`, ...lines.slice(1)];
  });
}

// ---------------------------------------------------------------------------------------------
// Markdown: people-written text is shown literally. Characters that mean something inline are
// backslash-escaped (CommonMark allows it for all ASCII punctuation), and what means something at
// the start of a line (headings, lists, thematic breaks, setext underlines, indented code) is
// neutralised on every line, so a caveat cannot fake a section, end a block or inject HTML.

const NOT_PROVIDED = '_Not provided._';

function escapeLine(line: string): string {
  return (
    line
      // A lone surrogate cannot be written as UTF-8; the file would carry U+FFFD anyway.
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
      .replace(/[\\`*_[\]<>&|~$]/g, (c) => `\\${c}`)
      .replace(/^([#+=-])/, '\\$1')
      .replace(/^(\d+)([.)])/, '$1\\$2')
  );
}

const trimLine = (line: string) => line.replace(/^[ \t]+|[ \t]+$/g, '');

/** One line of text (a heading, a list entry, a table cell). */
const inline = (text: string) =>
  escapeLine(
    text
      .split(/\r\n|\r|\n/)
      .map(trimLine)
      .join(' ')
      .trim(),
  );

/** Identifiers and hashes read best as code; anything that could break a code span is escaped text instead. */
const code = (text: string) => (/^[A-Za-z0-9._:@/+-]+$/.test(text) ? `\`${text}\`` : inline(text));

/** Paragraphs of people-written text: blank lines separate paragraphs, line breaks are kept. */
function block(text: string | null | undefined): string {
  if (isBlank(text)) return NOT_PROVIDED;
  const paragraphs: string[][] = [[]];
  for (const line of text.split(/\r\n|\r|\n/).map(trimLine)) {
    if (line === '') paragraphs.push([]);
    else paragraphs[paragraphs.length - 1].push(escapeLine(line));
  }
  return paragraphs
    .filter((p) => p.length > 0)
    .map((p) => p.join('\\\n'))
    .join('\n\n');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const count = (n: number) => String(n);
/** Four decimals read well in a table; a tiny value keeps four significant digits instead of showing as 0. */
function decimal(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const fixed = x.toFixed(4).replace(/\.?0+$/, '');
  return fixed === '0' || fixed === '-0' ? x.toPrecision(4) : fixed;
}
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------------

const METRIC_NAMES: Record<EvaluationMetric, string> = { bleu: 'BLEU', ciderD: 'CIDEr-D', vqaAccuracy: 'VQA accuracy', perplexity: 'Perplexity' };
const METRIC_MEANINGS: Record<EvaluationMetric, string> = {
  bleu: 'n-gram overlap of generated reports or captions with the reference text, 0 to 100',
  ciderD: 'consensus-based agreement of generated captions with the references, TF-IDF weighted, 0 and up',
  vqaAccuracy: 'share of answers to visual questions that match the reference answer, 0 to 100',
  perplexity: 'how surprised the model is by the reference text, 1 and up',
};
const METHOD_NAMES: Record<TrainingMethod, string> = {
  lora: 'LoRA adapter on a frozen base model',
  qlora: 'QLoRA adapter on a 4-bit (NF4) quantized base model',
  distill: 'knowledge distillation from a teacher model',
  full: 'full fine-tuning of every weight',
};
/** The Hub's `base_model_relation`: an adapter is loaded over its base; the others are new weights derived from it. */
const BASE_MODEL_RELATION: Record<TrainingMethod, string> = { lora: 'adapter', qlora: 'adapter', distill: 'finetune', full: 'finetune' };
const FLAG_WORDS: Record<FlagTrigger, { one: string; many: string }> = {
  'consent-withdrawn': { one: 'withdrew their consent', many: 'withdrew their consent' },
  'subject-erased': { one: 'was erased at their request', many: 'were erased at their request' },
};

/** The Hub task our LLaVA-style models serve: an image and a prompt in, text out. */
const PIPELINE_TAG = 'image-text-to-text';

/** Trellis data has no Hub id; these name it unambiguously for an auditor without pretending to be Hub repos. */
const datasetRef = (s: { datasetId: string; datasetVersion: number }) => `trellis:dataset/${s.datasetId}@v${s.datasetVersion}`;
const annotationSetRef = (setId: string) => `trellis:annotation-set/${setId}`;
const baseModelRef = (id: string) => `trellis:base-model/${id}`;

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** Read models may list rows in any order; the card must not change when they do. */
function ordered(facts: ModelCardFacts) {
  return {
    sets: [...facts.annotationSets].sort((a, b) => cmp(a.setId, b.setId) || cmp(a.version, b.version)),
    evaluations: [...facts.evaluations].sort((a, b) => cmp(a.completedAt, b.completedAt) || cmp(a.evaluationId, b.evaluationId)),
    aliases: [...facts.aliases].sort(cmp),
    flags: [...facts.flags].sort((a, b) => cmp(a.trigger, b.trigger)),
    excluded: [...(facts.snapshot?.excluded ?? [])].sort((a, b) => cmp(a.reason, b.reason)),
    deidentification: [...facts.deidentification].sort((a, b) => cmp(a.profile, b.profile) || cmp(a.assets, b.assets)),
  };
}
type Ordered = ReturnType<typeof ordered>;

const reportedMetrics = (m: Metrics) => EVALUATION_METRICS.filter((metric) => m[metric] !== null);

function frontMatter(facts: ModelCardFacts, o: Ordered): string {
  const license = facts.card?.fields.license;
  const metrics = EVALUATION_METRICS.filter((metric) => o.evaluations.some((e) => e.metrics[metric] !== null));
  const results = o.evaluations
    .filter((e) => reportedMetrics(e.metrics).length > 0)
    .map((e): YamlMap => ({
      task: { type: PIPELINE_TAG, name: 'Image captioning and visual question answering' },
      dataset: {
        type: annotationSetRef(e.annotationSet.setId),
        name: `Annotation set ${e.annotationSet.setId} version ${e.annotationSet.version}`,
        revision: e.annotationSet.contentSha256,
      },
      metrics: reportedMetrics(e.metrics).map((metric): YamlMap => ({ type: metric, value: e.metrics[metric]!, name: METRIC_NAMES[metric] })),
    }));
  const tags = ['trellis', 'multimodal', facts.method, ...(facts.flags.length > 0 ? ['needs-retraining'] : []), ...(facts.archived ? ['archived'] : [])];
  const metadata: YamlMap = {
    // The Hub lists licenses by lowercased SPDX id (apache-2.0, cc-by-4.0, other).
    license: isBlank(license) ? undefined : license.toLowerCase(),
    base_model: baseModelRef(facts.baseModel.id),
    base_model_relation: BASE_MODEL_RELATION[facts.method],
    pipeline_tag: PIPELINE_TAG,
    datasets: o.sets.length === 0 ? undefined : [...new Set(o.sets.map(datasetRef))].sort(cmp),
    metrics: metrics.length === 0 ? undefined : metrics,
    tags,
    'model-index': results.length === 0 ? undefined : [{ name: facts.modelName, results }],
  };
  return ['---', ...yamlMapping(metadata, ''), '---'].join('\n');
}

function flagWarning(o: Ordered): string[] {
  if (o.flags.length === 0) return [];
  const what = o.flags.every((f) => f.trigger === 'consent-withdrawn') ? 'withdrew their consent' : 'withdrew their consent or were erased';
  return [
    `> **Warning: this model version needs retraining.** Data subjects whose items are in its training snapshot ${what} after it was trained, so it must not be promoted or used further; retrain it without them.`,
    '>',
    ...o.flags.map((f) => {
      const words = FLAG_WORDS[f.trigger];
      return `> - ${plural(f.subjectsAffected, 'subject')} ${f.subjectsAffected === 1 ? words.one : words.many} (${plural(f.itemsAffected, 'training item')} affected)`;
    }),
  ];
}

function modelDetails(facts: ModelCardFacts, o: Ordered): string[] {
  const p = facts.parameters;
  const base = facts.baseModel;
  return [
    '## Model details',
    '',
    `- Model: ${inline(facts.modelName)}, version ${facts.version}`,
    `- Model version id: ${code(facts.modelVersionId)}`,
    `- Registered: ${inline(facts.registeredAt)}`,
    `- Status: ${facts.archived ? 'archived' : facts.flags.length > 0 ? 'flagged, needs retraining' : 'active'}`,
    `- Aliases held: ${o.aliases.length === 0 ? 'none' : o.aliases.map(code).join(', ')}`,
    '- Type: LLaVA-style multimodal model (vision encoder, projector and decoder language model) that writes text about an image',
    `- Training method: ${METHOD_NAMES[facts.method]} (${facts.method})`,
    `- Base model: ${code(base.id)}, manifest SHA-256 ${code(base.manifestSha256)}, ${base.preset === null ? 'a checkpoint brought by its users' : `preset ${code(base.preset)}`}`,
    facts.run === null
      ? '- Training run: none recorded (registered manually)'
      : `- Training run: ${code(facts.run.runId)}, requested by principal ${code(facts.run.requestedBy)}`,
    `- License: ${isBlank(facts.card?.fields.license) ? NOT_PROVIDED : code(facts.card.fields.license)}`,
    `- Card revision: ${facts.card === null ? 'none (nobody has edited this card yet)' : facts.card.revision}`,
    '',
    table(
      ['Parameters', 'Count'],
      [
        ['Language model', count(p.languageModel)],
        ['Vision encoder', count(p.visionEncoder)],
        ['Projector', count(p.projector)],
        ['Total', count(p.total)],
        ['Trainable', count(p.trainable)],
      ],
    ),
  ];
}

function peopleSection(heading: string, text: string | null | undefined): string[] {
  return [heading, '', block(text)];
}

function metricsSection(o: Ordered): string[] {
  const reported = EVALUATION_METRICS.filter((metric) => o.evaluations.some((e) => e.metrics[metric] !== null));
  return [
    '## Metrics',
    '',
    reported.length === 0
      ? 'No completed evaluation has reported a metric yet.'
      : 'Metrics reported by this version’s evaluations, each computed on every item of the evaluation set:',
    ...(reported.length === 0
      ? []
      : ['', ...reported.map((m) => `- ${METRIC_NAMES[m]} (${m}): ${METRIC_MEANINGS[m]}; ${LOWER_IS_BETTER.has(m) ? 'lower' : 'higher'} is better`)]),
  ];
}

function evaluationData(o: Ordered): string[] {
  const seen = new Map<string, ModelCardEvaluation>();
  for (const e of o.evaluations) seen.set(`${e.annotationSet.setId} ${e.annotationSet.version} ${e.annotationSet.contentSha256}`, e);
  const sets = [...seen.values()];
  return [
    '## Evaluation data',
    '',
    sets.length === 0
      ? 'No completed evaluation.'
      : table(
          ['Annotation set', 'Version', 'Content SHA-256', 'Items'],
          sets.map((e) => [code(e.annotationSet.setId), count(e.annotationSet.version), code(e.annotationSet.contentSha256), count(e.itemCount)]),
        ),
  ];
}

function trainingData(facts: ModelCardFacts, o: Ordered): string[] {
  const s = facts.snapshot;
  const snapshot =
    s === null
      ? ['No training snapshot recorded.']
      : [
          `- Snapshot manifest SHA-256: ${code(s.manifestSha256)}`,
          `- Merkle root: ${code(s.merkleRoot)}`,
          `- Consent checked as of: ${inline(s.consentAsOf)}`,
          `- Included: ${plural(s.includedItems, 'item')} from ${plural(s.includedSubjects, 'subject')}; held out for validation: ${plural(s.heldOutItems, 'item')}`,
          `- Excluded: ${o.excluded.length === 0 ? 'nothing' : o.excluded.map((x) => `${plural(x.count, 'item')} (${inline(x.reason)})`).join(', ')}`,
        ];
  const sets =
    o.sets.length === 0
      ? ['No annotation set recorded.']
      : [
          table(
            [
              'Annotation set',
              'Project',
              'Version',
              'Content SHA-256',
              'Dataset',
              'Dataset version',
              'Items',
              'Mean item agreement',
              'Accepted without adjudication',
              'Adjudicated',
            ],
            o.sets.map((a) => [
              code(a.setId),
              code(a.projectId),
              count(a.version),
              code(a.contentSha256),
              code(a.datasetId),
              count(a.datasetVersion),
              count(a.itemCount),
              a.agreement?.meanItemAgreement == null ? 'not measured' : decimal(a.agreement.meanItemAgreement),
              a.agreement === null ? 'not measured' : count(a.agreement.acceptedWithoutAdjudication),
              a.agreement === null ? 'not measured' : count(a.agreement.adjudicated),
            ]),
          ),
        ];
  const deid = o.deidentification.length === 0 ? ['Not recorded.'] : o.deidentification.map((d) => `- ${inline(d.profile)}: ${plural(d.assets, 'asset')}`);
  return [
    '## Training data',
    '',
    '### Consent',
    '',
    facts.purpose === null
      ? 'Consent basis: not recorded.'
      : `Consent basis: every training item’s subject held active consent for the purpose ${code(facts.purpose)} when the snapshot was taken.`,
    '',
    '### Snapshot',
    '',
    ...snapshot,
    '',
    '### Annotation sets',
    '',
    ...sets,
    '',
    '### De-identification',
    '',
    ...deid,
  ];
}

function quantitativeAnalyses(o: Ordered): string[] {
  const cell = (x: number | null) => (x === null ? 'not computed' : decimal(x));
  return [
    '## Quantitative analyses',
    '',
    o.evaluations.length === 0
      ? 'No completed evaluation.'
      : table(
          ['Evaluation', 'Annotation set', 'Version', 'Items', ...EVALUATION_METRICS.map((m) => METRIC_NAMES[m]), 'Completed'],
          o.evaluations.map((e) => [
            code(e.evaluationId),
            code(e.annotationSet.setId),
            count(e.annotationSet.version),
            count(e.itemCount),
            ...EVALUATION_METRICS.map((m) => cell(e.metrics[m])),
            inline(e.completedAt),
          ]),
        ),
    '',
    'Results are reported per evaluation set; results disaggregated by the factors above are not computed.',
  ];
}

/** The version's model card: Hugging Face metadata front matter, then the sections of Mitchell et al. (2019). Same facts, same bytes. */
export function renderModelCard(facts: ModelCardFacts): string {
  const o = ordered(facts);
  const fields = facts.card?.fields;
  const warning = flagWarning(o);
  const sections: string[][] = [
    [`# Model card: ${inline(facts.modelName)} version ${facts.version}`],
    ...(warning.length > 0 ? [warning] : []),
    ...(facts.archived ? [['> This version is archived.']] : []),
    [
      'Generated by Trellis from the registry’s events. Fields written by people come from the latest card edit and read “Not provided” until someone provides them.',
    ],
    modelDetails(facts, o),
    [
      '## Intended use',
      '',
      ...peopleSection('### Primary intended uses', fields?.intendedUse),
      '',
      ...peopleSection('### Out-of-scope uses', fields?.outOfScopeUse),
    ],
    peopleSection('## Factors', fields?.factors),
    metricsSection(o),
    evaluationData(o),
    trainingData(facts, o),
    quantitativeAnalyses(o),
    peopleSection('## Ethical considerations', fields?.ethicalConsiderations),
    peopleSection('## Caveats and recommendations', fields?.caveats),
  ];
  return `${frontMatter(facts, o)}\n\n${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
