import type { Answer } from './annotation.contracts';

/** The prompt a caption is trained and evaluated under (the synthetic data set's). */
export const CAPTION_PROMPT = 'Describe the image.';
/** The prompt a class label is trained and evaluated under. */
export const CLASSIFICATION_PROMPT = 'What is shown in the image?';

/**
 * The prompt and answer pairs an annotation is learned (trainer) and scored (registry) under: one
 * definition, so that an evaluation asks the model exactly what its training taught it to answer.
 */
export function supervisedPairs(answer: Answer): { prompt: string; answer: string }[] {
  switch (answer.kind) {
    case 'caption':
      return [{ prompt: CAPTION_PROMPT, answer: answer.caption }];
    case 'vqa':
      return answer.pairs.map((p) => ({ prompt: p.question, answer: p.answer }));
    case 'classification':
      return [{ prompt: CLASSIFICATION_PROMPT, answer: answer.label }];
  }
}
