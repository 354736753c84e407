import { parseRunRequest, unmatchedTargetModules } from './run-request';

const base = '01930000-0000-7000-8000-0000000000b1';
const teacher = '01930000-0000-7000-8000-0000000000b2';
const set = { setId: '01930000-0000-7000-8000-0000000000a1' };

describe('parseRunRequest', () => {
  it('fills the defaults of a minimal LoRA request', () => {
    const { request, problems } = parseRunRequest({ baseModelId: base, method: 'lora', annotationSets: [set] });
    expect(problems).toEqual([]);
    expect(request).toMatchObject({
      method: 'lora',
      teacherModelId: null,
      evaluation: { kind: 'held-out', fraction: 0.2 },
      purpose: 'model-training',
      hyperparameters: {
        lora: { rank: 8, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'v_proj'], rslora: false },
        steps: 100,
        epochs: null,
        distillation: null,
      },
    });
  });

  it('lists every problem at once, each naming its field', () => {
    const { request, problems } = parseRunRequest({
      baseModelId: 'nope',
      method: 'lora',
      annotationSets: [],
      evaluation: { heldOutFraction: 1.5 },
      hyperparameters: { loraRank: 0 },
    });
    expect(request).toBeNull();
    expect(problems.map((p) => p.field).sort()).toEqual(
      ['body.annotationSets', 'body.baseModelId', 'body.evaluation.heldOutFraction', 'body.hyperparameters.loraRank'].sort(),
    );
  });

  it('refuses unknown fields instead of ignoring them', () => {
    const { problems } = parseRunRequest({ baseModelId: base, method: 'full', annotationSets: [set], learningrate: 1 });
    expect(problems).toEqual([expect.objectContaining({ field: 'body', message: expect.stringContaining('learningrate') })]);
  });

  it('asks distillation for a teacher and refuses one elsewhere, and LoRA settings outside LoRA', () => {
    expect(parseRunRequest({ baseModelId: base, method: 'distill', annotationSets: [set] }).problems.map((p) => p.field)).toEqual(['body.teacherModelId']);
    const full = parseRunRequest({
      baseModelId: base,
      method: 'full',
      teacherModelId: teacher,
      annotationSets: [set],
      hyperparameters: { loraRank: 4, temperature: 2 },
    });
    expect(full.problems.map((p) => p.field)).toEqual(['body.teacherModelId', 'body.hyperparameters.loraRank', 'body.hyperparameters.temperature']);
  });

  it('takes epochs instead of steps, not both', () => {
    expect(
      parseRunRequest({ baseModelId: base, method: 'full', annotationSets: [set], hyperparameters: { epochs: 2 } }).request?.hyperparameters,
    ).toMatchObject({
      steps: null,
      epochs: 2,
    });
    expect(parseRunRequest({ baseModelId: base, method: 'full', annotationSets: [set], hyperparameters: { epochs: 2, steps: 5 } }).problems[0].field).toBe(
      'body.hyperparameters.epochs',
    );
  });

  it('gives distillation its temperature and weight', () => {
    const { request } = parseRunRequest({
      baseModelId: base,
      method: 'distill',
      teacherModelId: teacher,
      annotationSets: [set],
      hyperparameters: { temperature: 3 },
    });
    expect(request?.hyperparameters.distillation).toEqual({ temperature: 3, alpha: 0.5 });
    expect(request?.hyperparameters.lora).toBeNull();
  });
});

describe('unmatchedTargetModules', () => {
  const names = ['language_model.model.layers.0.self_attn.q_proj', 'language_model.model.layers.0.mlp.up_proj', 'multi_modal_projector.linear_1'];
  it('matches PEFT-style: a full name or its last dotted parts', () => {
    expect(unmatchedTargetModules(names, ['q_proj', 'mlp.up_proj', 'multi_modal_projector.linear_1'])).toEqual([]);
  });
  it('returns the entries that match nothing (a partial word is no match)', () => {
    expect(unmatchedTargetModules(names, ['proj', 'k_proj', 'q_proj'])).toEqual(['proj', 'k_proj']);
  });
});
