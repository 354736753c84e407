import type { AnnotationProjectEvent } from '@trellis/contracts';
import { deciderSpec } from '@trellis/testing';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { decideProject, evolveProject, initialProjectState, ProjectCommand, ProjectState } from './project.decider';

const spec = deciderSpec<ProjectState, ProjectCommand, AnnotationProjectEvent>({ decide: decideProject, evolve: evolveProject, initialState: initialProjectState });
const projectId = '01930000-0000-7000-8000-0000000000aa';
const datasetId = '01930000-0000-7000-8000-0000000000dd';
const request = { name: 'chest x-ray labels', datasetId, datasetVersion: 1, taskType: 'classification', labels: ['normal', 'abnormal'], guidelines: 'Label the finding.', annotationsPerItem: 3, agreementThreshold: 0.6 };
const created: AnnotationProjectEvent = {
  type: 'AnnotationProjectCreated',
  data: { projectId, name: 'chest x-ray labels', datasetId, datasetVersion: 1, taskType: 'classification', labels: ['normal', 'abnormal'], guidelines: 'Label the finding.', annotationsPerItem: 3, agreementThreshold: 0.6, maxTextLength: 1000 },
};
const set = { setId: '01930000-0000-7000-8000-0000000000ee', contentSha256: 'a'.repeat(64), itemCount: 4, leftOutCount: 1, leftOut: [{ reason: 'subject-erased' as const, count: 1 }], pendingCount: 0, artifact: { area: 'artifacts' as const, key: `annotation-sets/${'a'.repeat(64)}`, sha256: 'a'.repeat(64) } };

const code = (expected: AnnotationErrorCode, message?: RegExp) => (err: unknown) => {
  expect(err).toBeInstanceOf(AnnotationException);
  expect((err as AnnotationException).code).toBe(expected);
  if (message) expect((err as Error).message).toMatch(message);
};

describe('decideProject', () => {
  describe('CreateProject', () => {
    it('creates a project with its rules and the default text limit', () => {
      spec.given([]).when({ type: 'CreateProject', projectId, request }).then([created]);
    });

    it('refuses a classification project without a label set, labels on a caption project, and a threshold above 1, naming the fields', () => {
      spec.given([]).when({ type: 'CreateProject', projectId, request: { ...request, labels: ['only'] } }).thenThrows(code(AnnotationErrorCode.InvalidRequest, /body.labels: a classification project needs at least two labels/));
      spec.given([]).when({ type: 'CreateProject', projectId, request: { ...request, taskType: 'caption' } }).thenThrows(code(AnnotationErrorCode.InvalidRequest, /only classification projects have labels/));
      spec.given([]).when({ type: 'CreateProject', projectId, request: { ...request, agreementThreshold: 1.5 } }).thenThrows((err) => {
        code(AnnotationErrorCode.InvalidRequest)(err);
        expect((err as AnnotationException).fields).toEqual(['body.agreementThreshold']);
      });
    });

    it('refuses a dataset version number beyond a PostgreSQL integer, naming the field', () => {
      spec.given([]).when({ type: 'CreateProject', projectId, request: { ...request, datasetVersion: 1e11 } }).thenThrows((err) => {
        code(AnnotationErrorCode.InvalidRequest)(err);
        expect((err as AnnotationException).fields).toEqual(['body.datasetVersion']);
      });
    });

    it('refuses to create a project twice', () => {
      spec.given([created]).when({ type: 'CreateProject', projectId, request }).thenThrows(code(AnnotationErrorCode.AlreadyExists));
    });
  });

  describe('PublishAnnotationSet', () => {
    it('numbers set versions from 1 and records the dataset version they came from', () => {
      spec.given([created]).when({ type: 'PublishAnnotationSet', set }).then([{ type: 'AnnotationSetPublished', data: { ...set, projectId, version: 1, datasetId, datasetVersion: 1 } }]);
      spec
        .given([created, { type: 'AnnotationSetPublished', data: { ...set, projectId, version: 1, datasetId, datasetVersion: 1 } }])
        .when({ type: 'PublishAnnotationSet', set })
        .then([{ type: 'AnnotationSetPublished', data: { ...set, projectId, version: 2, datasetId, datasetVersion: 1 } }]);
    });

    it('refuses an empty set', () => {
      spec.given([created]).when({ type: 'PublishAnnotationSet', set: { ...set, itemCount: 0 } }).thenThrows(code(AnnotationErrorCode.NothingToPublish));
    });
  });
});
