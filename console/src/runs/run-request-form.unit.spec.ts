import { EMPTY_FORM, toRunRequest } from './run-request-form';

describe('toRunRequest', () => {
  it('builds the body from the form, leaving empty fields to the API defaults', () => {
    const { body, problems } = toRunRequest({ ...EMPTY_FORM, baseModelId: ' b ', annotationSets: 's1, p1@2\ns2', learningRate: '', modelName: 'demo' });
    expect(problems).toEqual({});
    expect(body).toEqual({
      baseModelId: 'b',
      method: 'lora',
      annotationSets: [{ setId: 's1' }, { projectId: 'p1', version: 2 }, { setId: 's2' }],
      evaluation: { heldOutFraction: 0.2 },
      modelName: 'demo',
      hyperparameters: { steps: 100, seed: 0 },
    });
  });

  it('names the problems it can see before asking', () => {
    const { body, problems } = toRunRequest({ ...EMPTY_FORM, method: 'distill', heldOutFraction: '1', steps: '1.5', annotationSets: 'p@x' });
    expect(body).toBeNull();
    expect(Object.keys(problems).sort()).toEqual(['annotationSets', 'baseModelId', 'heldOutFraction', 'steps', 'teacherModelId']);
  });

  it('sends a teacher for distillation only', () => {
    expect(toRunRequest({ ...EMPTY_FORM, baseModelId: 'b', annotationSets: 's', teacherModelId: 't' }).body).not.toHaveProperty('teacherModelId');
    expect(toRunRequest({ ...EMPTY_FORM, method: 'distill', baseModelId: 'b', annotationSets: 's', teacherModelId: 't' }).body?.teacherModelId).toBe('t');
  });
});
