import { Metrics } from '@trellis/contracts';
import { missingCardFields, ModelCardFacts, renderModelCard } from './model-card';
import { cardFields, HOSTILE_TEXT, REFERENCE_FACTS, YAML_TRAPS } from './model-card.fixture';
import { MODEL_CARD_REFERENCE } from './model-card.reference.values';

// What the card promises, written out here rather than taken from the renderer: the Hub metadata
// conventions (see model-card.ts) and the sections of Mitchell et al. 2019, "Model Cards for Model Reporting".
const MITCHELL_SECTIONS = [
  'Model details',
  'Intended use',
  'Factors',
  'Metrics',
  'Evaluation data',
  'Training data',
  'Quantitative analyses',
  'Ethical considerations',
  'Caveats and recommendations',
];
const METRIC_ORDER: (keyof Metrics)[] = ['bleu', 'ciderD', 'vqaAccuracy', 'perplexity'];
const METRIC_NAMES: Record<keyof Metrics, string> = { bleu: 'BLEU', ciderD: 'CIDEr-D', vqaAccuracy: 'VQA accuracy', perplexity: 'Perplexity' };
/** Markup no part of a card may produce: people-written text must not become HTML, links, code blocks, rules or other lists. */
const FORBIDDEN_TOKENS = ['html_block', 'html_inline', 'link_open', 'image', 'hr', 'fence', 'code_block', 's_open', 'ordered_list_open'];

function expectedMetadata(f: ModelCardFacts): Record<string, unknown> {
  const license = f.card?.fields.license;
  const reported = METRIC_ORDER.filter((m) => f.evaluations.some((e) => e.metrics[m] !== null));
  return {
    license: license ? license.toLowerCase() : undefined,
    base_model: `trellis:base-model/${f.baseModel.id}`,
    base_model_relation: f.method === 'lora' || f.method === 'qlora' ? 'adapter' : 'finetune',
    pipeline_tag: 'image-text-to-text',
    datasets:
      f.annotationSets.length === 0 ? undefined : [...new Set(f.annotationSets.map((s) => `trellis:dataset/${s.datasetId}@v${s.datasetVersion}`))].sort(),
    metrics: reported.length === 0 ? undefined : reported,
    tags: ['trellis', 'multimodal', f.method, ...(f.flags.length > 0 ? ['needs-retraining'] : []), ...(f.archived ? ['archived'] : [])],
  };
}

function expectedEvalResults(f: ModelCardFacts) {
  return [...f.evaluations]
    .sort((a, b) => a.completedAt.localeCompare(b.completedAt))
    .flatMap((e) =>
      METRIC_ORDER.filter((m) => e.metrics[m] !== null).map((m) => ({
        taskType: 'image-text-to-text',
        taskName: 'Image captioning and visual question answering',
        datasetType: `trellis:annotation-set/${e.annotationSet.setId}`,
        datasetName: `Annotation set ${e.annotationSet.setId} version ${e.annotationSet.version}`,
        datasetRevision: e.annotationSet.contentSha256,
        metricType: m,
        metricName: METRIC_NAMES[m],
        metricValue: e.metrics[m],
      })),
    );
}

/** How people-written text must read: each line without its indentation, paragraphs split at blank lines. */
const paragraphsOf = (text: string) =>
  text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/^[ \t]+|[ \t]+$/g, ''))
    .join('\n')
    .split(/\n{2,}/)
    .filter((p) => p !== '');

/** The Markdown under a heading of the generated card, up to the next heading. */
function section(card: string, heading: string): string {
  const start = card.indexOf(`\n${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const rest = card.slice(start + heading.length + 2);
  const end = rest.search(/\n#{1,3} /);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

describe('model cards', () => {
  describe('renderModelCard', () => {
    describe.each(Object.keys(REFERENCE_FACTS) as (keyof typeof REFERENCE_FACTS)[])('the %s card, read back by huggingface_hub and markdown-it-py', (name) => {
      const facts = REFERENCE_FACTS[name];
      const reference = MODEL_CARD_REFERENCE[name];

      it('is byte for byte the card the reference values were read from (else re-run model-card.reference.py)', () => {
        expect(renderModelCard(facts)).toBe(reference.card);
      });

      it('states license, base model, datasets, metrics and tags in metadata the Hub reads', () => {
        expect(reference.metadata).toEqual(expectedMetadata(facts));
      });

      it('states every reported metric of every evaluation in model-index, and no metric that was not computed', () => {
        expect(reference.evalResults).toEqual(expectedEvalResults(facts));
        expect(reference.modelName).toBe(expectedEvalResults(facts).length === 0 ? null : facts.modelName);
      });

      it('closes the front matter right before the title', () => {
        expect(reference.text.startsWith('\n# Model card: ')).toBe(true);
        expect(reference.markdown.headings[0][0]).toBe(1);
      });

      it('has every section of Mitchell et al., in order, and no other', () => {
        expect(reference.markdown.headings.filter(([level]) => level === 2).map(([, text]) => text)).toEqual(MITCHELL_SECTIONS);
      });

      it('contains no raw HTML, link, image, code block or rule', () => {
        expect(reference.markdown.tokenTypes.filter((t) => FORBIDDEN_TOKENS.includes(t))).toEqual([]);
      });
    });

    describe('people-written text', () => {
      const hostile = MODEL_CARD_REFERENCE.hostile;

      it('reads back literally, in every people field, whatever Markdown or YAML it contains', () => {
        const expected = paragraphsOf(HOSTILE_TEXT);
        expect(expected).toHaveLength(2);
        // Intended use, out-of-scope use, factors, ethical considerations, caveats.
        for (const paragraph of expected) expect(hostile.markdown.paragraphs.filter((p) => p === paragraph)).toHaveLength(5);
      });

      it('cannot add a heading, even one that names a section ("# Ethical considerations", setext "===")', () => {
        expect(hostile.markdown.headings.slice(1)).toEqual([
          [2, 'Model details'],
          [2, 'Intended use'],
          [3, 'Primary intended uses'],
          [3, 'Out-of-scope uses'],
          [2, 'Factors'],
          [2, 'Metrics'],
          [2, 'Evaluation data'],
          [2, 'Training data'],
          [3, 'Consent'],
          [3, 'Snapshot'],
          [3, 'Annotation sets'],
          [3, 'De-identification'],
          [2, 'Quantitative analyses'],
          [2, 'Ethical considerations'],
          [2, 'Caveats and recommendations'],
        ]);
      });

      it('keeps a model name with newlines and "---" on one heading line', () => {
        expect(hostile.markdown.headings[0]).toEqual([1, `Model card: ${REFERENCE_FACTS.hostile.modelName.replace(/\n/g, ' ')} version 3`]);
      });

      it('with "---" on its own line ends neither the front matter nor a block: the YAML keys are exactly the ones written', () => {
        expect(HOSTILE_TEXT.split('\r\n')).toContain('---');
        expect(Object.keys(hostile.metadata).sort()).toEqual(['base_model', 'base_model_relation', 'datasets', 'license', 'metrics', 'pipeline_tag', 'tags']);
      });

      it('reaches YAML as the same string: no value is read as a boolean, null, number, comment or line break', () => {
        expect(hostile.metadata.license).toBe('no');
        expect(hostile.metadata.base_model).toBe(`trellis:base-model/${YAML_TRAPS.join(' ')}`);
        expect(hostile.modelName).toBe(REFERENCE_FACTS.hostile.modelName);
      });

      it('writes tiny and huge metric values as YAML floats, not strings', () => {
        const values = Object.fromEntries(hostile.evalResults.map((r) => [r.metricType, r.metricValue]));
        expect(values).toEqual({ bleu: 0, ciderD: 1e-7, vqaAccuracy: 100, perplexity: 1e21 });
      });
    });

    describe('people fields not provided', () => {
      it('shows each missing people field as not provided when nobody has edited the card', () => {
        const card = renderModelCard(REFERENCE_FACTS.manual);
        for (const heading of [
          '### Primary intended uses',
          '### Out-of-scope uses',
          '## Factors',
          '## Ethical considerations',
          '## Caveats and recommendations',
        ]) {
          expect(section(card, heading)).toBe('_Not provided._');
        }
        expect(card).toContain('\n- License: _Not provided._\n');
      });

      it('shows a blank field as not provided and a written one as written', () => {
        const card = REFERENCE_FACTS.typical;
        const rendered = renderModelCard(card);
        expect(card.card?.fields.factors?.trim()).toBe('');
        expect(section(rendered, '## Factors')).toBe('_Not provided._');
        expect(section(rendered, '## Caveats and recommendations')).toBe('Trained on adult PA views only.');
      });
    });

    describe('metrics', () => {
      it('leaves a metric that was not computed out of model-index, and an evaluation with none at all', () => {
        const typical = MODEL_CARD_REFERENCE.typical;
        const onSet9 = typical.evalResults.filter((r) => r.datasetType.endsWith('01940000-0000-7000-8000-000000001009'));
        expect(onSet9.map((r) => r.metricType)).toEqual(['bleu', 'ciderD', 'perplexity']);
        // Three evaluations, the third with nothing scored: two results, no empty one.
        expect(REFERENCE_FACTS.typical.evaluations).toHaveLength(3);
        expect(typical.card.match(/^ {6}- task:$/gm)).toHaveLength(2);
      });

      it('has no model-index and no metrics when no evaluation completed', () => {
        const manual = MODEL_CARD_REFERENCE.manual;
        expect(manual.evalResults).toEqual([]);
        expect(manual.metadata).not.toHaveProperty('metrics');
        expect(manual.card).not.toContain('model-index');
      });
    });

    describe('a flagged version', () => {
      const flagged = REFERENCE_FACTS.flagged;

      it('says before anything else that it needs retraining because subjects withdrew consent, with counts', () => {
        const card = renderModelCard(flagged);
        const warning = card.indexOf('**Warning: this model version needs retraining.**');
        expect(warning).toBeGreaterThan(card.indexOf('\n# Model card: '));
        expect(warning).toBeLessThan(card.indexOf('\n## Model details'));
        expect(card).toContain('> - 3 subjects withdrew their consent (11 training items affected)\n');
        expect(card).toContain('> - 1 subject was erased at their request (2 training items affected)\n');
        expect(MODEL_CARD_REFERENCE.flagged.metadata.tags).toContain('needs-retraining');
      });

      it('names no subject: ids handed over with a flag stay out of the card', () => {
        const subjectId = '01940000-0000-7000-8000-000000000499';
        const withIds = { ...flagged, flags: flagged.flags.map((f) => ({ ...f, subjectIds: [subjectId] })) };
        const card = renderModelCard(withIds);
        expect(card).toContain('needs retraining');
        expect(card).not.toContain(subjectId);
      });

      it('is not claimed of a version without flags', () => {
        expect(renderModelCard(REFERENCE_FACTS.typical)).not.toContain('needs retraining');
      });
    });

    describe('determinism', () => {
      it('renders the same bytes for the same facts, whatever order the read models listed the rows in', () => {
        const f = REFERENCE_FACTS.typical;
        const reversed: ModelCardFacts = {
          ...f,
          annotationSets: [...f.annotationSets].reverse(),
          evaluations: [...f.evaluations].reverse(),
          aliases: [...f.aliases].reverse(),
          deidentification: [...f.deidentification].reverse(),
          flags: [...REFERENCE_FACTS.flagged.flags].reverse(),
          snapshot: f.snapshot && { ...f.snapshot, excluded: [...f.snapshot.excluded].reverse() },
        };
        const same: ModelCardFacts = { ...f, flags: REFERENCE_FACTS.flagged.flags };
        expect(renderModelCard(reversed)).toBe(renderModelCard(same));
        expect(renderModelCard(structuredClone(f))).toBe(MODEL_CARD_REFERENCE.typical.card);
      });
    });
  });

  describe('missingCardFields', () => {
    it('lists every required field when the card was never edited', () => {
      expect(missingCardFields(null)).toEqual(['intendedUse', 'caveats', 'license']);
    });

    it('counts a blank field as missing and ignores fields that are welcome but not required', () => {
      expect(missingCardFields(cardFields({ intendedUse: 'Drafting reports.', caveats: ' \n\t ', license: 'MIT' }))).toEqual(['caveats']);
    });

    it('lists nothing when every required field is written', () => {
      expect(missingCardFields(cardFields({ intendedUse: 'Drafting reports.', caveats: 'Adults only.', license: 'MIT' }))).toEqual([]);
    });
  });
});
