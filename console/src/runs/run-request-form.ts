import { TRAINING_METHODS, type RunRequestBody, type TrainingMethod } from './runs.api';

/** The request form's fields as typed (strings); the API checks the rest and names each problem. */
export interface RunRequestForm {
  baseModelId: string;
  method: string;
  teacherModelId: string;
  /** Set ids, or projectId@version, separated by commas, spaces or lines. */
  annotationSets: string;
  heldOutFraction: string;
  modelName: string;
  steps: string;
  learningRate: string;
  seed: string;
}

export const EMPTY_FORM: RunRequestForm = {
  baseModelId: '',
  method: 'lora',
  teacherModelId: '',
  annotationSets: '',
  heldOutFraction: '0.2',
  modelName: '',
  steps: '100',
  learningRate: '',
  seed: '0',
};

/** The body of POST /training/runs, or the problems the form can see by itself (field → message). */
export function toRunRequest(f: RunRequestForm): { body: RunRequestBody | null; problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  if (!f.baseModelId.trim()) problems.baseModelId = 'choose a base model';
  if (!(TRAINING_METHODS as readonly string[]).includes(f.method)) problems.method = `one of ${TRAINING_METHODS.join(', ')}`;
  if (f.method === 'distill' && !f.teacherModelId.trim()) problems.teacherModelId = 'distillation needs a teacher model';
  const sets = f.annotationSets
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((s) => {
      const [id, version] = s.split('@');
      return version === undefined ? { setId: id } : { projectId: id, version: Number(version) };
    }) as ({ setId: string } | { projectId: string; version: number })[];
  if (sets.length === 0) problems.annotationSets = 'at least one annotation set';
  if (sets.some((s) => 'version' in s && !(Number.isInteger(s.version) && s.version > 0)))
    problems.annotationSets = 'write a project as <project id>@<version>';
  const number = (name: keyof RunRequestForm, text: string, integer: boolean): number | undefined => {
    if (!text.trim()) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) problems[name] = integer ? 'a whole number' : 'a number';
    return n;
  };
  const fraction = number('heldOutFraction', f.heldOutFraction, false);
  if (fraction !== undefined && !(fraction > 0 && fraction < 1)) problems.heldOutFraction = 'above 0 and below 1';
  const steps = number('steps', f.steps, true);
  const learningRate = number('learningRate', f.learningRate, false);
  const seed = number('seed', f.seed, true);
  if (Object.keys(problems).length) return { body: null, problems };
  const hyperparameters = Object.fromEntries(
    Object.entries({ steps, learningRate, seed }).filter(([, v]) => v !== undefined),
  ) as RunRequestBody['hyperparameters'];
  return {
    problems,
    body: {
      baseModelId: f.baseModelId.trim(),
      method: f.method as TrainingMethod,
      ...(f.method === 'distill' ? { teacherModelId: f.teacherModelId.trim() } : {}),
      annotationSets: sets,
      ...(fraction !== undefined ? { evaluation: { heldOutFraction: fraction } } : {}),
      ...(f.modelName.trim() ? { modelName: f.modelName.trim() } : {}),
      ...(Object.keys(hyperparameters ?? {}).length ? { hyperparameters } : {}),
    },
  };
}
