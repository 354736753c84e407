import { EvaluationScoringErrorCode, EvaluationScoringException } from './evaluation-scoring.exception';
import { ptbTokenize, type PredictionKind, scorePredictions, type ScoredPrediction } from './evaluation-scorer';

// Expected values come from the reference implementations, never from this code:
// - captions, BLEU and CIDEr-D: libs/ml/src/metrics/fixtures/make-reference-values.py's inputs,
//   scored with sacrebleu 2.6.0 and pycocoevalcap 1.2 (PTBTokenizer, then Cider) by
//   evaluation-scorer.reference.py beside this file, whose output is pasted below;
// - VQA: the official vqaEval.py (a013f00) accuracies of libs/ml/src/metrics/vqa.unit.spec.ts;
// - perplexity: scipy log_softmax NLLs of libs/ml/src/metrics/perplexity.unit.spec.ts.
const HYPS = [
  'The cat sat on the mat.',
  'A small round opacity in the left lower lobe.',
  'No acute findings',
  "It's 3.14 -- isn't it? &quot;yes&quot; (maybe) 1,000,000 items; 5-6 days",
  'Heart size normal, lungs clear.',
  'the the the the the',
];
const REFS1 = [
  'The cat is sitting on the mat.',
  'There is a small round opacity in the left lower lobe.',
  'No acute cardiopulmonary findings.',
  'It is 3.14, isn\'t it? "yes" (maybe) 1,000,000 items; 5-6 days',
  'Heart size is normal and the lungs are clear.',
  'the cat',
];
const REFS2 = [
  'A cat sat on the mat.',
  'Small rounded opacity, left lower lobe.',
  'No acute findings.',
  "It's 3.14 - isn't it?",
  'Normal heart size; clear lungs.',
  'there is a cat on the mat',
];
const SACREBLEU = { twoRefs: 70.5440582731677, oneRef: 59.16955683672784, unevenRefs: 63.47420671326157 };
const PYCOCOEVALCAP = { rawTwoRefs: 4.09328270320534, rawOneRef: 4.329990591264511, tokenizedFixture: 2.50152568978164 };

// libs/ml's CIDEr-D fixture: PTB-tokenized already, 2 to 4 references per image.
const GTS = [
  ['a cat sitting on a mat', 'the cat is on the mat', 'a cat on a mat in a room'],
  ['a chest x ray with a small round opacity', 'small opacity in the left lower lobe', 'chest radiograph showing a nodule'],
  ['two dogs playing in the snow', 'dogs running through snow', 'a pair of dogs play outside in the snow', 'two dogs in snow'],
  ['a man riding a bike', 'a person on a bicycle on the street'],
];
const RES = ['a cat on the mat', 'a small round opacity in the left lower lobe', 'two dogs in the snow', 'a dog on a mat'];

/** Stanford PTBTokenizer 3.4.1 as pycocoevalcap runs it (evaluation-scorer.reference.py). */
const PTB: [string, string][] = [
  ["It isn't RED, it's blue-ish!", "it is n't red it 's blue-ish"],
  ['Two dogs (playing) in the snow; outside.', 'two dogs -lrb- playing -rrb- in the snow outside'],
  ['The U.S. flag: red/white & blue?', 'the u.s. flag red/white & blue'],
  ['A 3.14 cm nodule, 1,000 items', 'a 3.14 cm nodule 1,000 items'],
  ["They're here, we'll go, I'd say I'm done, you've won, can't won't", "they 're here we 'll go i 'd say i 'm done you 've won ca n't wo n't"],
  ['left [lower] lobe {x}', 'left -lsb- lower -rsb- lobe -lcb- x -rcb-'],
  ['a  b\tc', 'a b c'],
  ['e.g. this', 'e.g. this'],
  ["the dogs' bones", 'the dogs bones'],
  ["He said: 'fine'.", 'he said fine'],
  ['Hello...world', 'hello world'],
  ['x &lt; y &gt; z &amp; it&apos;s', "x < y > z & it 's"],
  ['Is it 5? Yes!', 'is it 5 yes'],
  ['x-ray: clear', 'x-ray clear'],
];

/** Official VQA accuracies (0..1) of predictions against ten-annotator panels. */
const VQA_PANELS: [string, string[], number][] = [
  ['yes', [...Array(3).fill('yes'), ...Array(7).fill('no')], 0.9],
  ['yes', [...Array(2).fill('yes'), ...Array(8).fill('no')], 0.6],
  ['The dog.', [...Array(2).fill('dog'), ...Array(8).fill('dogs')], 0.6],
  ['t-shirt', [...Array(3).fill('t-shirt'), ...Array(3).fill('tshirt'), ...Array(4).fill('shirt')], 0.9],
];
/** Official accuracies of panels of ten identical answers: what one reference answer stands for. */
const VQA_UNANIMOUS: [string, string, number][] = [
  ['Two', '2', 0],
  ['Yes.', 'yes', 0],
  ['YES', 'Yes.', 0],
  ['yes', ' yes\t', 1],
  ['no', 'no', 1],
  ['No', 'no', 0],
];

/** scipy's per-token NLLs of the perplexity fixture and exp(their mean). */
const SCIPY_NLL = [0.5824196710497691, 0.16935501227094224, 5.007093592494536];
const SCIPY_PERPLEXITY = 6.818385806691044;

let next = 0;
function item(kind: PredictionKind, prediction: string, references: string[], extra: Partial<ScoredPrediction> = {}): ScoredPrediction {
  return { itemId: `item-${next++}`, kind, prompt: kind === 'caption' ? 'Describe the image.' : 'What is it?', references, prediction, ...extra };
}

const captionsTwoRefs = () => HYPS.map((h, i) => item('caption', h, [REFS1[i], REFS2[i]]));
const questions = () => VQA_PANELS.map(([p, refs]) => item('vqa', p, refs));

function expectScoringError(fn: () => unknown, code: EvaluationScoringErrorCode, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(EvaluationScoringException);
  expect((thrown as EvaluationScoringException).code).toBe(code);
  expect((thrown as Error).message).toMatch(message);
}

describe('ptbTokenize', () => {
  it.each(PTB)('tokenizes %j as PTBTokenizer does for pycocoevalcap', (caption, expected) => {
    expect(ptbTokenize(caption)).toBe(expected);
  });

  it('leaves text PTBTokenizer leaves alone as it is', () => {
    for (const s of [...RES, ...GTS.flat()]) expect(ptbTokenize(s)).toBe(s);
  });
});

describe('scorePredictions', () => {
  it('gives corpus BLEU and CIDEr-D over the captions alone, as sacrebleu and pycocoevalcap do', () => {
    // Questions and labels between the captions must not enter either caption metric.
    const caps = captionsTwoRefs();
    const mixed = [...questions().slice(0, 2), ...caps.slice(0, 3), item('classification', 'cat', ['cat']), ...caps.slice(3)];
    const m = scorePredictions(mixed);
    expect(m.bleu).toBeCloseTo(SACREBLEU.twoRefs, 10);
    expect(m.ciderD).toBeCloseTo(PYCOCOEVALCAP.rawTwoRefs, 10);
  });

  it('scores one reference per caption, as annotation sets give them', () => {
    const m = scorePredictions(HYPS.map((h, i) => item('caption', h, [REFS1[i]])));
    expect(m.bleu).toBeCloseTo(SACREBLEU.oneRef, 10);
    expect(m.ciderD).toBeCloseTo(PYCOCOEVALCAP.rawOneRef, 10);
  });

  it('takes captions with different numbers of references as sacrebleu and pycocoevalcap take them', () => {
    const m = scorePredictions(RES.map((r, i) => item('caption', r, GTS[i])));
    expect(m.bleu).toBeCloseTo(SACREBLEU.unevenRefs, 10);
    expect(m.ciderD).toBeCloseTo(PYCOCOEVALCAP.tokenizedFixture, 10);
  });

  it('gives VQA accuracy in percent over questions and class labels, panels as the official script scores them', () => {
    const items = [...questions(), item('caption', 'a cat', ['a dog'])];
    const expected = (100 * VQA_PANELS.reduce((s, [, , a]) => s + a, 0)) / VQA_PANELS.length;
    expect(scorePredictions(items).vqaAccuracy).toBeCloseTo(expected, 10);
  });

  it('scores a single reference answer as the official script scores ten annotators who all gave it', () => {
    const items = VQA_UNANIMOUS.map(([p, ref], i) => item(i % 2 === 0 ? 'vqa' : 'classification', p, [ref]));
    const expected = (100 * VQA_UNANIMOUS.reduce((s, [, , a]) => s + a, 0)) / VQA_UNANIMOUS.length;
    expect(scorePredictions(items).vqaAccuracy).toBeCloseTo(expected, 10);
    // The official script's own rule, not an exact match: "Yes." against "yes" is 0, " yes\t" is cleaned to "yes".
    expect(expected).toBeCloseTo(100 / 3, 10);
  });

  it('gives perplexity as exp(total NLL / total answer tokens) over every item, whatever its kind', () => {
    const items = [
      item('caption', 'a', ['a'], { answerNll: { sumNll: SCIPY_NLL[0] + SCIPY_NLL[1], tokens: 2 } }),
      item('vqa', 'b', ['b'], { answerNll: { sumNll: SCIPY_NLL[2], tokens: 1 } }),
    ];
    expect(scorePredictions(items).perplexity).toBeCloseTo(SCIPY_PERPLEXITY, 10);
  });

  it('gives null for each metric that no item is of', () => {
    expect(scorePredictions(questions())).toEqual({ bleu: null, ciderD: null, vqaAccuracy: expect.any(Number), perplexity: null });
    const captions = scorePredictions(captionsTwoRefs());
    expect(captions.vqaAccuracy).toBeNull();
    expect(captions.bleu).not.toBeNull();
    expect(scorePredictions([])).toEqual({ bleu: null, ciderD: null, vqaAccuracy: null, perplexity: null });
  });

  it('refuses an item without references, a perplexity of only some items, and an impossible NLL', () => {
    expectScoringError(() => scorePredictions([item('vqa', 'x', [])]), EvaluationScoringErrorCode.InvalidInput, /no reference answer/);
    const some = [item('vqa', 'x', ['x'], { answerNll: { sumNll: 1, tokens: 2 } }), item('vqa', 'y', ['y'])];
    expectScoringError(() => scorePredictions(some), EvaluationScoringErrorCode.InvalidInput, /1 of 2 items have no answerNll/);
    const bad = [item('vqa', 'x', ['x'], { answerNll: { sumNll: -1, tokens: 2 } })];
    expectScoringError(() => scorePredictions(bad), EvaluationScoringErrorCode.InvalidInput, /finite and >= 0/);
  });
});
