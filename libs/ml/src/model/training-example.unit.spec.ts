import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ByteLevelBpeTokenizer } from '../tokenizer';
import { buildTrainingExample, collateExamples } from './training-example';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tokenizer = ByteLevelBpeTokenizer.train(['USER: what is shown? ASSISTANT: a round lesion', 'the image shows a chest x-ray'], {
  vocabSize: 300,
  specialTokens: ['<s>', '</s>', '<pad>', '<image>'],
});

describe('buildTrainingExample', () => {
  it('counts only the answer and EOS; the prompt, with its image token, is ignored', () => {
    const ex = buildTrainingExample(tokenizer, { prompt: 'what is shown?', answer: 'a round lesion' });
    const promptIds = tokenizer.encode('USER: <image>\nwhat is shown? ASSISTANT:', { addBos: true });
    const answerIds = tokenizer.encode(' a round lesion');
    expect(ex.inputIds).toEqual([...promptIds, ...answerIds, tokenizer.eosId]);
    expect(ex.labels).toEqual([...promptIds.map(() => -100), ...answerIds, tokenizer.eosId]);
    expect(ex.inputIds[0]).toBe(tokenizer.bosId);
    expect(ex.inputIds.filter((id) => id === tokenizer.imageId)).toHaveLength(1);
    expect(
      tokenizer.decode(
        ex.labels.filter((l) => l !== -100),
        { skipSpecial: true },
      ),
    ).toBe(' a round lesion');
  });

  it('truncates the answer to maxLength and keeps the EOS', () => {
    const full = buildTrainingExample(tokenizer, { prompt: 'what is shown?', answer: 'a round lesion' });
    const ex = buildTrainingExample(tokenizer, { prompt: 'what is shown?', answer: 'a round lesion' }, { maxLength: full.promptLength + 2 });
    expect(ex.inputIds).toHaveLength(full.promptLength + 2);
    expect(ex.inputIds.at(-1)).toBe(tokenizer.eosId);
    expect(() => buildTrainingExample(tokenizer, { prompt: 'what is shown?', answer: 'x' }, { maxLength: 3 })).toThrow(
      /maxLength 3 leaves no room for the answer/,
    );
  });

  it('refuses a prompt with two image tokens', () => {
    expect(() => buildTrainingExample(tokenizer, { prompt: '<image> and <image>', answer: 'x' })).toThrow(/exactly one image token .* got 2/);
  });
});

describe('collateExamples', () => {
  it('right-pads ids with the pad id and labels with -100', () => {
    const { inputIds, labels } = collateExamples(
      [
        { inputIds: [1, 2, 3], labels: [-100, 2, 3], promptLength: 1 },
        { inputIds: [1, 4], labels: [-100, 4], promptLength: 1 },
      ],
      9,
    );
    expect(inputIds.arraySync()).toEqual([
      [1, 2, 3],
      [1, 4, 9],
    ]);
    expect(labels.arraySync()).toEqual([
      [-100, 2, 3],
      [-100, 4, -100],
    ]);
  });
});
