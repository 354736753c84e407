import type { Answer, ExchangeFormat, TaskType } from '@trellis/contracts';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { AnnotationSetContent } from '../sets/annotation-set';

/**
 * LLaVA conversation JSON, COCO captions JSON and JSONL: what leaves as an export and comes back
 * as an import. Each record names its image by item (asset) id and by image key, so data
 * labelled elsewhere can be matched by either.
 */

export const IMAGE_TOKEN = '<image>';
export const CAPTION_PROMPT = 'Describe the image.';
export const classificationPrompt = (labels: string[]) => `Which label fits the image? Answer with one of: ${labels.join(', ')}.`;

export interface LlavaRecord {
  id: string;
  image: string;
  conversations: { from: 'human' | 'gpt'; value: string }[];
}

function llavaConversation(answer: Answer, labels: string[]): LlavaRecord['conversations'] {
  switch (answer.kind) {
    case 'caption':
      return [
        { from: 'human', value: `${IMAGE_TOKEN}\n${CAPTION_PROMPT}` },
        { from: 'gpt', value: answer.caption },
      ];
    case 'classification':
      return [
        { from: 'human', value: `${IMAGE_TOKEN}\n${classificationPrompt(labels)}` },
        { from: 'gpt', value: answer.label },
      ];
    case 'vqa':
      return answer.pairs.flatMap((p, i) => [
        { from: 'human' as const, value: i === 0 ? `${IMAGE_TOKEN}\n${p.question}` : p.question },
        { from: 'gpt' as const, value: p.answer },
      ]);
  }
}

export function toLlava(set: AnnotationSetContent): LlavaRecord[] {
  return set.items.map((i) => ({ id: i.itemId, image: i.image, conversations: llavaConversation(i.answer, set.labels) }));
}

export interface CocoCaptions {
  info: { description: string; version: string };
  images: { id: number; file_name: string; trellis_item_id: string }[];
  annotations: { id: number; image_id: number; caption: string }[];
}

export function toCoco(set: AnnotationSetContent): CocoCaptions {
  if (set.taskType !== 'caption') {
    throw new AnnotationException(
      AnnotationErrorCode.InvalidRequest,
      `COCO captions export is for caption projects; this one is ${set.taskType} (use llava or jsonl)`,
      ['query.format'],
    );
  }
  return {
    info: { description: `Trellis annotation set ${set.projectId} v${set.version}`, version: String(set.version) },
    images: set.items.map((i, n) => ({ id: n + 1, file_name: i.image, trellis_item_id: i.itemId })),
    annotations: set.items.map((i, n) => ({ id: n + 1, image_id: n + 1, caption: (i.answer as { caption: string }).caption })),
  };
}

export function toJsonl(set: AnnotationSetContent): string {
  return set.items
    .map((i) => {
      const a = i.answer;
      const body = a.kind === 'caption' ? { caption: a.caption } : a.kind === 'vqa' ? { qa: a.pairs } : { label: a.label };
      return JSON.stringify({ id: i.itemId, image: i.image, ...body });
    })
    .map((l) => `${l}\n`)
    .join('');
}

export function exportSet(set: AnnotationSetContent, format: ExchangeFormat): { contentType: string; body: string } {
  switch (format) {
    case 'llava':
      return { contentType: 'application/json', body: JSON.stringify(toLlava(set), null, 2) };
    case 'coco':
      return { contentType: 'application/json', body: JSON.stringify(toCoco(set), null, 2) };
    case 'jsonl':
      return { contentType: 'application/x-ndjson', body: toJsonl(set) };
  }
}

/** One imported record before it is matched to a task: where it came from, what it names, its answer. */
export interface ImportRecord {
  /** e.g. `record 3` or `line 7`, used in every error about it. */
  where: string;
  id: string | null;
  image: string | null;
  answer: unknown;
}

export interface ImportProblem {
  where: string;
  field: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalString = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

function parseJson(text: string, format: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AnnotationException(AnnotationErrorCode.InvalidImport, `the ${format} file is not valid JSON: ${(err as Error).message}`, ['file']);
  }
}

function llavaRecords(text: string, taskType: TaskType, problems: ImportProblem[]): ImportRecord[] {
  const doc = parseJson(text, 'LLaVA');
  if (!Array.isArray(doc))
    throw new AnnotationException(AnnotationErrorCode.InvalidImport, 'a LLaVA file is a JSON array of { id, image, conversations }', ['file']);
  const records: ImportRecord[] = [];
  doc.forEach((r, n) => {
    const where = `record ${n}`;
    const problem = (field: string, message: string) => problems.push({ where, field: `[${n}].${field}`, message });
    if (!isObject(r)) return problem('', 'must be an object { id, image, conversations }');
    const turns = r.conversations;
    if (!Array.isArray(turns) || turns.length < 2 || turns.length % 2 !== 0) return problem('conversations', 'must be a list of human/gpt turns, in pairs');
    for (let t = 0; t < turns.length; t++) {
      const turn = turns[t];
      const from = t % 2 === 0 ? 'human' : 'gpt';
      if (!isObject(turn) || turn.from !== from || typeof turn.value !== 'string')
        return problem(`conversations[${t}]`, `must be { from: '${from}', value: string }`);
    }
    const first = (turns[0] as { value: string }).value;
    if (!first.startsWith(IMAGE_TOKEN)) return problem('conversations[0].value', `must start with the ${IMAGE_TOKEN} placeholder`);
    const values = (turns as { value: string }[]).map((t, i) => (i === 0 ? t.value.slice(IMAGE_TOKEN.length).replace(/^\n/, '') : t.value));
    let answer: unknown;
    if (taskType === 'vqa') {
      answer = { pairs: values.flatMap((v, i) => (i % 2 === 0 ? [{ question: v, answer: values[i + 1] }] : [])) };
    } else {
      if (turns.length !== 2) return problem('conversations', `a ${taskType} record has one human and one gpt turn, got ${turns.length} turns`);
      answer = taskType === 'caption' ? { caption: values[1] } : { label: values[1] };
    }
    records.push({ where, id: optionalString(r.id), image: optionalString(r.image), answer });
  });
  return records;
}

function cocoRecords(text: string, taskType: TaskType, problems: ImportProblem[]): ImportRecord[] {
  if (taskType !== 'caption')
    throw new AnnotationException(AnnotationErrorCode.InvalidImport, `COCO captions can only be imported into a caption project; this one is ${taskType}`, [
      'query.format',
    ]);
  const doc = parseJson(text, 'COCO');
  if (!isObject(doc) || !Array.isArray(doc.images) || !Array.isArray(doc.annotations)) {
    throw new AnnotationException(AnnotationErrorCode.InvalidImport, 'a COCO captions file is an object with `images` and `annotations` arrays', ['file']);
  }
  const images = new Map<number, { file_name: string | null; item: string | null; n: number }>();
  doc.images.forEach((img, n) => {
    if (!isObject(img) || typeof img.id !== 'number') return problems.push({ where: `image ${n}`, field: `images[${n}].id`, message: 'must be a number' });
    if (images.has(img.id)) return problems.push({ where: `image ${n}`, field: `images[${n}].id`, message: `image id ${img.id} appears twice` });
    images.set(img.id, { file_name: optionalString(img.file_name), item: optionalString(img.trellis_item_id), n });
  });
  const seen = new Set<number>();
  const records: ImportRecord[] = [];
  doc.annotations.forEach((a, n) => {
    const where = `annotation ${n}`;
    if (!isObject(a)) return problems.push({ where, field: `annotations[${n}]`, message: 'must be an object { id, image_id, caption }' });
    const img = typeof a.image_id === 'number' ? images.get(a.image_id) : undefined;
    if (!img) return problems.push({ where, field: `annotations[${n}].image_id`, message: `names no image of the file (${JSON.stringify(a.image_id)})` });
    // One final caption per item: the first caption of an image wins, like our own export has one.
    if (seen.has(a.image_id as number)) return;
    seen.add(a.image_id as number);
    records.push({ where, id: img.item, image: img.file_name, answer: { caption: a.caption } });
  });
  return records;
}

function jsonlRecords(text: string, taskType: TaskType, problems: ImportProblem[]): ImportRecord[] {
  const records: ImportRecord[] = [];
  text.split('\n').forEach((line, n) => {
    if (!line.trim()) return;
    const where = `line ${n + 1}`;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (err) {
      return problems.push({ where, field: 'line', message: `not valid JSON: ${(err as Error).message}` });
    }
    if (!isObject(r)) return problems.push({ where, field: 'line', message: 'must be a JSON object' });
    const answer = taskType === 'caption' ? { caption: r.caption } : taskType === 'vqa' ? { pairs: r.qa } : { label: r.label };
    records.push({ where, id: optionalString(r.id), image: optionalString(r.image), answer });
  });
  return records;
}

/** Parses an import file of the given format for a project of the given task type; structural problems are collected. */
export function parseImport(format: ExchangeFormat, text: string, taskType: TaskType): { records: ImportRecord[]; problems: ImportProblem[] } {
  const problems: ImportProblem[] = [];
  if (!text.trim()) throw new AnnotationException(AnnotationErrorCode.InvalidImport, 'the import file is empty', ['file']);
  const records =
    format === 'llava'
      ? llavaRecords(text, taskType, problems)
      : format === 'coco'
        ? cocoRecords(text, taskType, problems)
        : jsonlRecords(text, taskType, problems);
  if (records.length === 0 && problems.length === 0)
    throw new AnnotationException(AnnotationErrorCode.InvalidImport, 'the import file has no records', ['file']);
  return { records, problems };
}

/** One exception for all problems of a file, the first ones spelled out. */
export function importFailure(problems: ImportProblem[]): AnnotationException {
  const shown = problems.slice(0, 10).map((p) => `${p.where}: ${p.field}: ${p.message}`);
  const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
  return new AnnotationException(
    AnnotationErrorCode.InvalidImport,
    `import refused, nothing was changed (${problems.length} problem(s)): ${shown.join('; ')}${more}`,
    problems.slice(0, 50).map((p) => p.field),
  );
}
