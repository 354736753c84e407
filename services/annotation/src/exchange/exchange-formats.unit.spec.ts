import type { Answer, LeaveOutReason, TaskType } from '@trellis/contracts';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { AnnotationSetContent, buildAnnotationSet, TaskForSet } from '../sets/annotation-set';
import { exportSet, parseImport, toCoco, toLlava } from './exchange-formats';

const id = (n: number) => `01930000-0000-7000-8000-0000000000${String(n).padStart(2, '0')}`;

/** Builder for a set of final items of one task type (the one style for set fixtures). */
function setOf(taskType: TaskType, answers: Answer[], labels: string[] = []): AnnotationSetContent {
  const tasks: TaskForSet[] = answers.map((answer, n) => ({
    taskId: id(50 + n),
    itemId: id(n),
    subjectId: id(80 + n),
    imageKey: `curated/derivatives/img${n}`,
    status: 'final',
    finalAnswer: answer,
    finalSource: 'agreement',
    agreement: 1,
    adjudicatorId: null,
    assignments: [{ annotatorId: 'prn-a', status: 'accepted', answer, reviewerId: 'prn-r' }],
  }));
  return buildAnnotationSet({ projectId: id(99), version: 1, datasetId: id(98), datasetVersion: 1, taskType, labels, tasks, excluded: new Map() }).content;
}

const importedAnswers = (format: 'llava' | 'coco' | 'jsonl', set: AnnotationSetContent) => {
  const { records, problems } = parseImport(format, exportSet(set, format).body, set.taskType);
  expect(problems).toEqual([]);
  return records.map((r) => ({ id: r.id, image: r.image, answer: r.answer }));
};

describe('exchange formats', () => {
  describe('toLlava', () => {
    it('writes LLaVA conversations with the <image> placeholder in the first human turn', () => {
      const vqa = setOf('vqa', [
        {
          kind: 'vqa',
          pairs: [
            { question: 'Which side?', answer: 'left' },
            { question: 'Any fracture?', answer: 'no' },
          ],
        },
      ]);
      expect(toLlava(vqa)).toEqual([
        {
          id: id(0),
          image: 'curated/derivatives/img0',
          conversations: [
            { from: 'human', value: '<image>\nWhich side?' },
            { from: 'gpt', value: 'left' },
            { from: 'human', value: 'Any fracture?' },
            { from: 'gpt', value: 'no' },
          ],
        },
      ]);
    });
  });

  describe('toCoco', () => {
    it('writes COCO captions with integer image ids joined to annotations, and refuses non-caption sets', () => {
      const coco = toCoco(
        setOf('caption', [
          { kind: 'caption', caption: 'a chest film' },
          { kind: 'caption', caption: 'a knee film' },
        ]),
      );
      expect(coco.images).toEqual([
        { id: 1, file_name: 'curated/derivatives/img0', trellis_item_id: id(0) },
        { id: 2, file_name: 'curated/derivatives/img1', trellis_item_id: id(1) },
      ]);
      expect(coco.annotations).toEqual([
        { id: 1, image_id: 1, caption: 'a chest film' },
        { id: 2, image_id: 2, caption: 'a knee film' },
      ]);
      expect(() => toCoco(setOf('classification', [{ kind: 'classification', label: 'x' }], ['x', 'y']))).toThrow(
        /COCO captions export is for caption projects/,
      );
    });
  });

  describe('parseImport', () => {
    it('reads back what each format exported (round trip)', () => {
      const captions = setOf('caption', [{ kind: 'caption', caption: 'a chest film' }]);
      for (const format of ['llava', 'coco', 'jsonl'] as const) {
        expect(importedAnswers(format, captions)).toEqual([{ id: id(0), image: 'curated/derivatives/img0', answer: { caption: 'a chest film' } }]);
      }
      const labels = setOf('classification', [{ kind: 'classification', label: 'y' }], ['x', 'y']);
      expect(importedAnswers('llava', labels)[0].answer).toEqual({ label: 'y' });
      const vqa = setOf('vqa', [
        {
          kind: 'vqa',
          pairs: [
            { question: 'q1', answer: 'a1' },
            { question: 'q2', answer: 'a2' },
          ],
        },
      ]);
      expect(importedAnswers('jsonl', vqa)[0].answer).toEqual({
        pairs: [
          { question: 'q1', answer: 'a1' },
          { question: 'q2', answer: 'a2' },
        ],
      });
      expect(importedAnswers('llava', vqa)[0].answer).toEqual({
        pairs: [
          { question: 'q1', answer: 'a1' },
          { question: 'q2', answer: 'a2' },
        ],
      });
    });

    it('names the record and field of each structural problem', () => {
      const file = JSON.stringify([
        {
          id: id(0),
          image: 'x',
          conversations: [
            { from: 'human', value: 'no placeholder' },
            { from: 'gpt', value: 'a' },
          ],
        },
        {
          id: id(1),
          image: 'y',
          conversations: [
            { from: 'gpt', value: 'a' },
            { from: 'human', value: 'b' },
          ],
        },
        { id: id(2), image: 'z', conversations: [{ from: 'human', value: '<image>\nq' }] },
      ]);
      expect(parseImport('llava', file, 'caption').problems).toEqual([
        { where: 'record 0', field: '[0].conversations[0].value', message: 'must start with the <image> placeholder' },
        { where: 'record 1', field: '[1].conversations[0]', message: "must be { from: 'human', value: string }" },
        { where: 'record 2', field: '[2].conversations', message: 'must be a list of human/gpt turns, in pairs' },
      ]);
      expect(parseImport('jsonl', '{"id": 1}\nnot json\n', 'caption').problems).toEqual([
        { where: 'line 2', field: 'line', message: expect.stringMatching(/^not valid JSON/) },
      ]);
    });

    it('refuses an empty or unparseable file outright', () => {
      for (const [format, text] of [
        ['llava', ''],
        ['llava', '[{'],
        ['coco', '[]'],
      ] as const) {
        let err: unknown;
        try {
          parseImport(format, text, 'caption');
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(AnnotationException);
        expect((err as AnnotationException).code).toBe(AnnotationErrorCode.InvalidImport);
      }
    });
  });
});

describe('buildAnnotationSet', () => {
  it('gives the same hash for the same content and another for different content', () => {
    const a = setOf('caption', [{ kind: 'caption', caption: 'a chest film' }]);
    const b = setOf('caption', [{ kind: 'caption', caption: 'a chest film' }]);
    const c = setOf('caption', [{ kind: 'caption', caption: 'a knee film' }]);
    const hash = (s: AnnotationSetContent) =>
      buildAnnotationSet({
        projectId: s.projectId,
        version: 1,
        datasetId: s.datasetId,
        datasetVersion: 1,
        taskType: s.taskType,
        labels: [],
        tasks: s.items.map((i) => ({
          taskId: i.taskId,
          itemId: i.itemId,
          subjectId: i.subjectId,
          imageKey: i.image,
          status: 'final',
          finalAnswer: i.answer,
          finalSource: i.source,
          agreement: i.agreement,
          adjudicatorId: null,
          assignments: [],
        })),
        excluded: new Map(),
      }).sha256;
    expect(hash(a)).toBe(hash(b));
    expect(hash(a)).not.toBe(hash(c));
  });

  it('leaves excluded subjects out, counting them under their strongest reason, and counts pending items', () => {
    const base = { finalSource: 'agreement' as const, agreement: 1, adjudicatorId: null, assignments: [] };
    const tasks: TaskForSet[] = [
      { ...base, taskId: id(50), itemId: id(0), subjectId: id(80), imageKey: 'k0', status: 'final', finalAnswer: { kind: 'caption', caption: 'x' } },
      { ...base, taskId: id(51), itemId: id(1), subjectId: id(81), imageKey: 'k1', status: 'final', finalAnswer: { kind: 'caption', caption: 'y' } },
      { ...base, taskId: id(52), itemId: id(2), subjectId: id(82), imageKey: 'k2', status: 'cancelled', finalAnswer: null },
      { ...base, taskId: id(53), itemId: id(3), subjectId: id(83), imageKey: 'k3', status: 'open', finalAnswer: null },
    ];
    const excluded = new Map<string, LeaveOutReason[]>([
      [id(81), ['consent-withdrawn:model-training', 'subject-erased']],
      [id(82), ['consent-withdrawn:human-annotation']],
    ]);
    const { content } = buildAnnotationSet({
      projectId: id(99),
      version: 2,
      datasetId: id(98),
      datasetVersion: 1,
      taskType: 'caption',
      labels: [],
      tasks,
      excluded,
    });
    expect(content.items.map((i) => i.itemId)).toEqual([id(0)]);
    expect(content.leftOut).toEqual([
      { reason: 'consent-withdrawn:human-annotation', count: 1 },
      { reason: 'subject-erased', count: 1 },
    ]);
    expect(content.leftOutCount).toBe(2);
    expect(content.pendingCount).toBe(1);
  });
});
