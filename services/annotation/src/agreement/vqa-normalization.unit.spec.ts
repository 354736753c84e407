import { tokenF1 } from './text-similarity';
import { normalizeVqaAnswer, vqaExactMatch } from './vqa-normalization';

describe('normalizeVqaAnswer', () => {
  // Expected outputs traced by hand through the official vqaEval.py steps
  // (processPunctuation, then processDigitArticle).
  it.each([
    ['Two dogs.', '2 dogs'],
    ['the RED car', 'red car'],
    ['A man, riding a horse!', 'man riding horse'],
    ['dont know', "don't know"],
    ['isnt it', "isn't it"],
    ['3.5', '3.5'],
    ['1,000', '1000'],
    ['black-and-white', 'black and white'],
    ['black - white', 'black white'],
    ['none', '0'],
    ['  yes\n', 'yes'],
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizeVqaAnswer(input)).toBe(expected);
  });

  it('matches answers that differ only in articles, number words, case and punctuation', () => {
    expect(vqaExactMatch('Two cats', 'the 2 cats.')).toBe(true);
    expect(vqaExactMatch('two cats', 'three cats')).toBe(false);
  });
});

describe('tokenF1', () => {
  it('is 1 for the same bag of words, 0 for nothing shared, and the harmonic mean otherwise', () => {
    expect(tokenF1('a dog on grass', 'grass dog on')).toBe(1);
    expect(tokenF1('a dog', 'the cat')).toBe(0);
    // tokens {dog, runs} vs {dog, sleeps, here}: common 1, precision 1/3, recall 1/2, F1 = 0.4
    expect(tokenF1('dog runs', 'dog sleeps here')).toBeCloseTo(0.4, 12);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('dog', '')).toBe(0);
  });
});
