import { Readable } from 'node:stream';
import type { Role } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { AssignmentState, TaskState } from './task.decider';
import { TaskMediaUseCase } from './task-media.usecase';
import type { AnnotationStreams } from './task.streams';

const taskId = '01a21ecc-a816-75ef-acde-9843b67bfe07';

function taskWith(assignments: Partial<AssignmentState>[]): TaskState {
  return {
    status: 'open',
    taskId,
    projectId: '01a21ecc-a816-75ef-acde-9843b67bfe08',
    itemId: 'item-1',
    subjectId: 'subject-1',
    imageKey: 'images/abc',
    reportAssetId: 'report-1',
    reportKey: 'reports/abc',
    assignments: assignments.map((a, i) => ({ assignmentId: `a-${i}`, annotatorId: 'prn-ann', status: 'assigned', answer: null, reviewerId: null, ...a })),
    sawAnswers: [],
    final: null,
    cancelReason: null,
  };
}

const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);

function useCase(state: TaskState, image: Buffer = PNG_HEAD): TaskMediaUseCase {
  const streams = { loadTask: () => Promise.resolve({ state, version: 1 }) } as unknown as AnnotationStreams;
  const storage = { get: () => Promise.resolve(Readable.from(['bytes'])), getBuffer: () => Promise.resolve(image) } as unknown as ObjectStorage;
  return new TaskMediaUseCase(streams, storage);
}

async function outcome(state: TaskState, id: string, roles: Role[], what: 'image' | 'report' = 'image'): Promise<'opened' | AnnotationErrorCode> {
  try {
    await useCase(state).open(taskId, what, { id, roles });
    return 'opened';
  } catch (err) {
    if (err instanceof AnnotationException) return err.code;
    throw err;
  }
}

describe('issue 11 item 10: roles', () => {
  describe(`${TaskMediaUseCase.name} open`, () => {
    it('uses every role the principal holds: annotator and reviewer may open a task that is not theirs', async () => {
      const task = taskWith([{ annotatorId: 'prn-other', status: 'submitted' }]);
      expect(await outcome(task, 'prn-both', ['annotator', 'reviewer'])).toBe('opened');
      expect(await outcome(task, 'prn-both', ['reviewer', 'annotator'], 'report')).toBe('opened');
      expect(await outcome(task, 'prn-ann', ['annotator'])).toBe(AnnotationErrorCode.NotYourTask);
    });

    it('lets an annotator open their task while it is unfinished, submitted or accepted', async () => {
      for (const status of ['assigned', 'submitted', 'accepted'] as const) {
        expect(await outcome(taskWith([{ status }]), 'prn-ann', ['annotator'])).toBe('opened');
      }
    });

    it('takes the image and report away from an annotator whose answer was rejected or who released the task', async () => {
      for (const status of ['rejected', 'released'] as const) {
        for (const what of ['image', 'report'] as const) {
          expect(await outcome(taskWith([{ status }]), 'prn-ann', ['annotator'], what)).toBe(AnnotationErrorCode.NotYourTask);
        }
      }
      // The item came back to them (the project allows it): theirs again.
      expect(await outcome(taskWith([{ status: 'rejected' }, { status: 'assigned' }]), 'prn-ann', ['annotator'])).toBe('opened');
    });
  });

  describe('the image media type', () => {
    it.each([
      ['image/png', PNG_HEAD],
      ['image/jpeg', JPEG_HEAD],
    ])('serves %s for an image whose bytes are one (a curated JPEG stays a JPEG)', async (type, bytes) => {
      const media = await useCase(taskWith([{ status: 'assigned' }]), bytes).open(taskId, 'image', { id: 'prn-ann', roles: ['annotator'] });
      expect(media.contentType).toBe(type);
      const chunks: Buffer[] = [];
      for await (const c of media.stream) chunks.push(Buffer.from(c));
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    });
  });
});
