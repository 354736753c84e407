import { MetricsException } from './metrics.exception';
import { meanVqaAccuracy, normalizeVqaAnswer, vqaAccuracy, vqaProcessPunctuation } from './vqa';

// Expected accuracies: the official VQA evaluation (GT-Vision-Lab/VQA,
// PythonEvaluationTools/vqaEvaluation/vqaEval.py at a013f00, 2021-03-11) run on these inputs by
// fixtures/vqa-reference.py; the last column is normalizeVqaAnswer (processPunctuation and
// processDigitArticle, checked against the script below in NORMALIZED), and the comment where the
// 2016 revision (458a8b2, which this library followed before) scored otherwise.
const CASES: [string, string[], number, string][] = [
  // identical human answers: nothing is processed, so "Two" no longer matches "2" (2016: 1.0)
  ['Two', Array(10).fill('2'), 0.0, '2'],
  ['yes', [...Array(3).fill('yes'), ...Array(7).fill('no')], 0.9, 'yes'],
  ['yes', [...Array(2).fill('yes'), ...Array(8).fill('no')], 0.6, 'yes'],
  ['yes', [...Array(1).fill('yes'), ...Array(9).fill('no')], 0.3, 'yes'],
  ['The dog.', [...Array(2).fill('dog'), ...Array(8).fill('dogs')], 0.6, 'dog'],
  ['1,000', [...Array(4).fill('1000'), ...Array(3).fill('1,000'), ...Array(3).fill('thousand')], 1.0, '1000'],
  ['red and white', [...Array(4).fill('red/white'), ...Array(6).fill('red and white')], 1.0, 'red and white'],
  // 2016: 1.0
  ['Yes.', Array(10).fill('yes'), 0.0, 'yes'],
  ['YES', Array(10).fill('Yes.'), 0.0, 'yes'],
  ['ten', [...Array(5).fill('10'), ...Array(5).fill('ten')], 1.0, '10'],
  ['dont know', [...Array(6).fill("don't know"), ...Array(4).fill('unknown')], 1.0, "don't know"],
  ['t-shirt', [...Array(3).fill('t-shirt'), ...Array(3).fill('tshirt'), ...Array(4).fill('shirt')], 0.9, 't shirt'],
  ['  an apple\t', [...Array(9).fill('apple'), 'fruit'], 1.0, 'apple'],
  ['3.5', [...Array(5).fill('3.5'), ...Array(5).fill('3 5')], 1.0, '3.5'],
  ['left side;', [...Array(5).fill('left'), ...Array(5).fill('left side')], 1.0, 'left side'],
  // number words on the human side are processed now (2016: 0.9)
  ['2', [...Array(4).fill('two'), ...Array(3).fill('2'), ...Array(3).fill('three')], 1.0, '2'],
  ['a dog', [...Array(5).fill('the dog'), ...Array(5).fill('dog')], 1.0, 'dog'],
  // human answers cleaned of tabs and padding (2016: 0.0)
  ['yes', Array(10).fill(' yes\t'), 1.0, 'yes'],
  ['yes', [...Array(5).fill('yes\n'), ...Array(5).fill('yes')], 1.0, 'yes'],
  ['no', Array(10).fill('no'), 1.0, 'no'],
  // 2016: 1.0
  ['No', Array(10).fill('no'), 0.0, 'no'],
  // 2016: 0.9
  ['four', [...Array(3).fill('4'), ...Array(3).fill('four'), ...Array(4).fill('4 ')], 1.0, '4'],
];

const NORMALIZED: [string, string, string][] = [
  ["What's up?", "What's up ", "what's up"],
  ['a.b.c', 'abc', 'abc'],
  ['Hello, world!', 'Hello world ', 'hello world'],
  ['1,000 (approx.)', '1000 approx', '1000 approx'],
  ['x - y', 'x  y', 'x y'],
  ['one two three', 'one two three', '1 2 3'],
  ["The Dog's bone", "The Dog's bone", "dog's bone"],
  ['e.g. etc.', 'eg etc', 'eg etc'],
  ['3.14.', '3.14', '3.14'],
];

describe('vqaAccuracy', () => {
  it.each(CASES)('%j against %j scores as the official script', (prediction, answers, accuracy, normalized) => {
    expect(normalizeVqaAnswer(prediction)).toBe(normalized);
    expect(vqaAccuracy(prediction, answers)).toBeCloseTo(accuracy, 12);
  });

  it.each(NORMALIZED)('normalizes %j as the official script', (text, punct, full) => {
    expect(vqaProcessPunctuation(text)).toBe(punct);
    expect(normalizeVqaAnswer(text)).toBe(full);
  });

  it('averages over questions and rejects a question without answers', () => {
    expect(meanVqaAccuracy(CASES.slice(0, 4).map(([prediction, humanAnswers]) => ({ prediction, humanAnswers })))).toBeCloseTo((0 + 0.9 + 0.6 + 0.3) / 4, 12);
    expect(() => vqaAccuracy('x', [])).toThrow(MetricsException);
  });
});
