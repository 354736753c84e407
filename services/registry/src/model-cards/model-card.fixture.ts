import type { Metrics } from '@trellis/contracts';
import type { ModelCardAnnotationSet, ModelCardEvaluation, ModelCardFacts, ModelCardFields } from './model-card';

/** Test data for model cards: one builder per shape, and the facts model-card.reference.py renders and parses. */
const id = (group: number, n: number) => `01940000-0000-7000-8000-0000000${String(group).padStart(3, '0')}${String(n).padStart(2, '0')}`;
const sha = (c: string) => c.repeat(64);

export const cardFields = (f: Partial<ModelCardFields> = {}): ModelCardFields => ({
  intendedUse: null,
  outOfScopeUse: null,
  factors: null,
  ethicalConsiderations: null,
  caveats: null,
  license: null,
  ...f,
});

export const annotationSet = (n: number, s: Partial<ModelCardAnnotationSet> = {}): ModelCardAnnotationSet => ({
  setId: id(10, n),
  projectId: id(11, 1),
  version: 1,
  contentSha256: sha(String(n % 10)),
  datasetId: id(12, 1),
  datasetVersion: 2,
  itemCount: 120,
  agreement: { meanItemAgreement: 0.875, acceptedWithoutAdjudication: 100, adjudicated: 20 },
  ...s,
});

const allMetrics = (m: Partial<Metrics> = {}): Metrics => ({ bleu: 31.25, ciderD: 1.0625, vqaAccuracy: 62.5, perplexity: 7.5, ...m });

export const evaluation = (n: number, e: Partial<Omit<ModelCardEvaluation, 'metrics'>> & { metrics?: Partial<Metrics> } = {}): ModelCardEvaluation => ({
  evaluationId: id(20, n),
  annotationSet: { setId: id(10, 9), version: 1, contentSha256: sha('9') },
  itemCount: 40,
  completedAt: `2025-03-0${n}T10:00:00.000Z`,
  ...e,
  metrics: allMetrics(e.metrics),
});

export const modelCardFacts = (f: Partial<ModelCardFacts> = {}): ModelCardFacts => ({
  modelName: 'chest-xray-captioner',
  version: 3,
  modelVersionId: id(1, 3),
  registeredAt: '2025-03-01T09:30:00.000Z',
  method: 'lora',
  baseModel: { id: id(2, 1), manifestSha256: sha('a'), preset: 'tiny' },
  parameters: { languageModel: 6_700_000_000, visionEncoder: 300_000_000, projector: 20_000_000, total: 7_020_000_000, trainable: 40_000_000 },
  run: { runId: id(3, 1), requestedBy: 'engineer-a' },
  snapshot: {
    manifestSha256: sha('b'),
    merkleRoot: sha('c'),
    includedItems: 230,
    includedSubjects: 57,
    heldOutItems: 10,
    consentAsOf: '2025-02-28T23:00:00.000Z',
    excluded: [
      { reason: 'no-consent', count: 7 },
      { reason: 'consent-withdrawn', count: 3 },
    ],
  },
  purpose: 'model-training',
  annotationSets: [annotationSet(1), annotationSet(2, { version: 3, itemCount: 130, datasetVersion: 3, agreement: null })],
  deidentification: [
    { profile: 'dicom-ps3.15-e1-basic', assets: 200 },
    { profile: 'none', assets: 30 },
  ],
  evaluations: [],
  aliases: [],
  flags: [],
  archived: false,
  card: null,
  ...f,
});

/** Text a person could type, aimed at both the YAML front matter and the Markdown body. */
export const HOSTILE_LINE = '- yes: no # "quoted" \'single\' \\ {a: [1, 2]} & *star* `tick` <b>bold</b> | pipe ~~strike~~ $x$ [link](http://x.test)';
export const HOSTILE_TEXT = [
  'Do not use on pediatric images: accuracy "drops" #sharply.',
  '---',
  '# Ethical considerations',
  '- a fake list item',
  '1. a fake ordered item',
  '> a fake quote',
  '<script>alert(1)</script>',
  '```',
  '    indented code?',
  '',
  'Setext heading?',
  '===',
  HOSTILE_LINE,
  '&amp; ends with a backslash \\',
  '***',
].join('\r\n');
/** Strings a YAML reader must not take for another type or for a line break. */
export const YAML_TRAPS = [
  'no',
  'null',
  '1e3',
  '0x1F',
  '~',
  '- leading dash',
  'tab\there',
  'nel\u0085ls\u2028ps\u2029',
  'bell\u0007del\u007f',
  'lone\ud800',
  'ünïcödé 🩻',
];

/**
 * What model-card.reference.py renders (through renderModelCard) and parses with huggingface_hub
 * and markdown-it-py; model-card.reference.values.ts holds the result. Change one and regenerate.
 */
export const REFERENCE_FACTS: Record<'typical' | 'hostile' | 'flagged' | 'manual', ModelCardFacts> = {
  typical: modelCardFacts({
    evaluations: [
      // Listed out of order: the card orders evaluations by completion.
      evaluation(2, { metrics: { vqaAccuracy: null } }),
      evaluation(1, { annotationSet: { setId: id(10, 8), version: 2, contentSha256: sha('8') }, itemCount: 25, metrics: { bleu: 28.5, perplexity: 9.25 } }),
      // Nothing scored: must not appear in model-index.
      evaluation(3, { metrics: { bleu: null, ciderD: null, vqaAccuracy: null, perplexity: null } }),
    ],
    aliases: ['champion', 'candidate'],
    card: {
      revision: 2,
      fields: cardFields({
        intendedUse: 'Drafting findings for chest X-rays,\nreviewed by a radiologist before use.',
        caveats: 'Trained on adult PA views only.',
        license: 'Apache-2.0',
        factors: '   ',
      }),
    },
  }),
  hostile: modelCardFacts({
    modelName: `no\n---\n${HOSTILE_LINE}`,
    baseModel: { id: YAML_TRAPS.join(' '), manifestSha256: sha('a'), preset: HOSTILE_LINE },
    annotationSets: YAML_TRAPS.map((trap, n) => annotationSet(n + 1, { setId: `set ${trap}`, datasetId: `data: ${trap}`, datasetVersion: n + 1 })),
    deidentification: [{ profile: HOSTILE_TEXT, assets: 1 }],
    evaluations: [
      evaluation(1, {
        annotationSet: { setId: `${HOSTILE_LINE}\n---`, version: 1, contentSha256: sha('9') },
        // 1e-7 and 1e21 print as `1e-7` and `1e+21` in JavaScript, which YAML 1.1 reads as strings.
        metrics: { bleu: 0, ciderD: 1e-7, vqaAccuracy: 100, perplexity: 1e21 },
      }),
    ],
    aliases: [HOSTILE_LINE],
    card: {
      revision: 7,
      fields: cardFields({
        intendedUse: HOSTILE_TEXT,
        outOfScopeUse: HOSTILE_TEXT,
        factors: HOSTILE_TEXT,
        ethicalConsiderations: HOSTILE_TEXT,
        caveats: HOSTILE_TEXT,
        license: 'NO',
      }),
    },
  }),
  flagged: modelCardFacts({
    flags: [
      { trigger: 'subject-erased', subjectsAffected: 1, itemsAffected: 2 },
      { trigger: 'consent-withdrawn', subjectsAffected: 3, itemsAffected: 11 },
    ],
    evaluations: [evaluation(1)],
    card: { revision: 1, fields: cardFields({ intendedUse: 'Research only.', caveats: 'None known.', license: 'cc-by-nc-4.0' }) },
  }),
  manual: modelCardFacts({
    method: 'full',
    baseModel: { id: id(2, 2), manifestSha256: sha('d'), preset: null },
    run: null,
    snapshot: null,
    purpose: null,
    annotationSets: [],
    deidentification: [],
    archived: true,
  }),
};
