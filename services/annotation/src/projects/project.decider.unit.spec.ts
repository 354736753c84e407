import type { AnnotationProjectEvent } from '@trellis/contracts';
import { deciderSpec } from '@trellis/testing';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { decideProject, evolveProject, initialProjectState, KnownDatasetVersion, ProjectCommand, ProjectState } from './project.decider';

const spec = deciderSpec<ProjectState, ProjectCommand, AnnotationProjectEvent>({
  decide: decideProject,
  evolve: evolveProject,
  initialState: initialProjectState,
});
const projectId = '01930000-0000-7000-8000-0000000000aa';
const datasetId = '01930000-0000-7000-8000-0000000000dd';
const request = {
  name: 'chest x-ray labels',
  datasetId,
  datasetVersion: 1,
  taskType: 'classification',
  labels: ['normal', 'abnormal'],
  guidelines: 'Label the finding.',
  annotationsPerItem: 3,
  agreementThreshold: 0.6,
};
const created: AnnotationProjectEvent = {
  type: 'AnnotationProjectCreated',
  data: {
    projectId,
    name: 'chest x-ray labels',
    datasetId,
    datasetVersion: 1,
    taskType: 'classification',
    labels: ['normal', 'abnormal'],
    guidelines: 'Label the finding.',
    annotationsPerItem: 3,
    agreementThreshold: 0.6,
    maxTextLength: 1000,
    reassignRejectedToSameAnnotator: false,
  },
};
/** What annotation has received of the dataset: version 1 ready, version 2 pending. */
const known: KnownDatasetVersion[] = [
  { datasetId, name: 'chest-xray', version: 1, status: 'ready' },
  { datasetId, name: 'chest-xray', version: 2, status: 'pending' },
];
const create = (req: Record<string, unknown>, knownVersions = known): ProjectCommand => ({ type: 'CreateProject', projectId, request: req, knownVersions });
const set = {
  setId: '01930000-0000-7000-8000-0000000000ee',
  contentSha256: 'a'.repeat(64),
  itemCount: 4,
  leftOutCount: 1,
  leftOut: [{ reason: 'subject-erased' as const, count: 1 }],
  pendingCount: 0,
  artifact: { area: 'artifacts' as const, key: `annotation-sets/${'a'.repeat(64)}`, sha256: 'a'.repeat(64) },
};

const code = (expected: AnnotationErrorCode, message?: RegExp) => (err: unknown) => {
  expect(err).toBeInstanceOf(AnnotationException);
  expect((err as AnnotationException).code).toBe(expected);
  if (message) expect((err as Error).message).toMatch(message);
};

describe('decideProject', () => {
  describe('CreateProject', () => {
    it('creates a project with its rules and the default text limit', () => {
      spec.given([]).when(create(request)).then([created]);
    });

    it('refuses a classification project without a label set, labels on a caption project, and a threshold above 1, naming the fields', () => {
      spec
        .given([])
        .when(create({ ...request, labels: ['only'] }))
        .thenThrows(code(AnnotationErrorCode.InvalidRequest, /body.labels: a classification project needs at least two labels/));
      spec
        .given([])
        .when(create({ ...request, taskType: 'caption' }))
        .thenThrows(code(AnnotationErrorCode.InvalidRequest, /only classification projects have labels/));
      spec
        .given([])
        .when(create({ ...request, agreementThreshold: 1.5 }))
        .thenThrows((err) => {
          code(AnnotationErrorCode.InvalidRequest)(err);
          expect((err as AnnotationException).fields).toEqual(['body.agreementThreshold']);
        });
    });

    it('refuses a dataset version number beyond a PostgreSQL integer, naming the field', () => {
      spec
        .given([])
        .when(create({ ...request, datasetVersion: 1e11 }))
        .thenThrows((err) => {
          code(AnnotationErrorCode.InvalidRequest)(err);
          expect((err as AnnotationException).fields).toEqual(['body.datasetVersion']);
        });
    });

    it('takes the dataset name where an id is expected, resolving it to the id', () => {
      spec
        .given([])
        .when(create({ ...request, datasetId: 'chest-xray' }))
        .then([created]);
    });

    it('accepts a version that arrived but is pending (its tasks come when its manifest is read)', () => {
      spec
        .given([])
        .when(create({ ...request, datasetVersion: 2 }))
        .then([{ ...created, data: { ...created.data, datasetVersion: 2 } } as AnnotationProjectEvent]);
    });

    it('records the re-annotation setting, off unless asked for', () => {
      spec
        .given([])
        .when(create({ ...request, reassignRejectedToSameAnnotator: true }))
        .then([{ ...created, data: { ...created.data, reassignRejectedToSameAnnotator: true } } as AnnotationProjectEvent]);
    });

    it('refuses a version annotation has not received, listing the versions it knows', () => {
      spec
        .given([])
        .when(create({ ...request, datasetVersion: 3 }))
        .thenThrows((err) => {
          code(
            AnnotationErrorCode.UnknownDatasetVersion,
            /version 3 of dataset "chest-xray" \(.*\) is not known to annotation \(yet\); known versions: 1, 2 \(pending\)/,
          )(err);
          expect((err as AnnotationException).fields).toEqual(['body.datasetVersion']);
          expect((err as AnnotationException).errorClass).toBe('validation');
        });
    });

    it('refuses a dataset id or name of which no version has arrived', () => {
      spec
        .given([])
        .when(create({ ...request, datasetId: '01930000-0000-7000-8000-0000000000ff' }, []))
        .thenThrows((err) => {
          code(AnnotationErrorCode.UnknownDataset, /has received no version of a dataset with id or name "01930000-0000-7000-8000-0000000000ff" \(yet\)/)(err);
          expect((err as AnnotationException).fields).toEqual(['body.datasetId']);
        });
      spec
        .given([])
        .when(create({ ...request, datasetId: 'no-such-set' }, []))
        .thenThrows(code(AnnotationErrorCode.UnknownDataset));
    });

    it('refuses a name that several datasets have had, naming their ids', () => {
      const other = '01930000-0000-7000-8000-0000000000de';
      spec
        .given([])
        .when(create({ ...request, datasetId: 'chest-xray' }, [...known, { datasetId: other, name: 'chest-xray', version: 1, status: 'ready' }]))
        .thenThrows(code(AnnotationErrorCode.AmbiguousDatasetName, new RegExp(`belongs to 2 datasets \\(${datasetId}, ${other}\\)`)));
    });

    it('refuses a version whose manifest did not verify, since it will never have items', () => {
      spec
        .given([])
        .when(create(request, [{ ...known[0], status: 'unreadable' }]))
        .thenThrows(code(AnnotationErrorCode.DatasetVersionUnreadable));
    });

    it('refuses to create a project twice', () => {
      spec.given([created]).when(create(request)).thenThrows(code(AnnotationErrorCode.AlreadyExists));
    });
  });

  describe('ArchiveProject', () => {
    const archived: AnnotationProjectEvent = { type: 'AnnotationProjectArchived', data: { projectId } };
    it('archives a project once', () => {
      spec.given([created]).when({ type: 'ArchiveProject', projectId }).then([archived]);
      spec.given([created, archived]).when({ type: 'ArchiveProject', projectId }).thenThrows(code(AnnotationErrorCode.ProjectArchived));
      spec.given([]).when({ type: 'ArchiveProject', projectId }).thenThrows(code(AnnotationErrorCode.ProjectNotFound));
    });

    it('still publishes what was done, numbering on', () => {
      spec
        .given([created, archived])
        .when({ type: 'PublishAnnotationSet', set })
        .then([{ type: 'AnnotationSetPublished', data: { ...set, projectId, version: 1, datasetId, datasetVersion: 1 } }]);
    });
  });

  describe('PublishAnnotationSet', () => {
    it('numbers set versions from 1 and records the dataset version they came from', () => {
      spec
        .given([created])
        .when({ type: 'PublishAnnotationSet', set })
        .then([{ type: 'AnnotationSetPublished', data: { ...set, projectId, version: 1, datasetId, datasetVersion: 1 } }]);
      spec
        .given([created, { type: 'AnnotationSetPublished', data: { ...set, projectId, version: 1, datasetId, datasetVersion: 1 } }])
        .when({ type: 'PublishAnnotationSet', set })
        .then([{ type: 'AnnotationSetPublished', data: { ...set, projectId, version: 2, datasetId, datasetVersion: 1 } }]);
    });

    it('refuses an empty set', () => {
      spec
        .given([created])
        .when({ type: 'PublishAnnotationSet', set: { ...set, itemCount: 0 } })
        .thenThrows(code(AnnotationErrorCode.NothingToPublish));
    });
  });
});
