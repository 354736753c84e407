import { AnnotationProjectEvent, AnnotationSetPublished, isUuid } from '@trellis/contracts';
import { AnnotationErrorCode, AnnotationException, describeIssues } from '../annotation.exception';
import { CreateProjectRequest, DEFAULT_MAX_TEXT_LENGTH, ProjectRules } from './project-rules';

export type ProjectState =
  | { status: 'none' }
  | {
      status: 'created' | 'archived';
      projectId: string;
      name: string;
      datasetId: string;
      datasetVersion: number;
      guidelines: string;
      rules: ProjectRules;
      setVersions: number;
    };

/** A dataset version as annotation received it from ingestion (the read model of DatasetVersionPublished). */
export interface KnownDatasetVersion {
  datasetId: string;
  name: string;
  version: number;
  status: 'ready' | 'pending' | 'unreadable';
}

export type ProjectCommand =
  /** `knownVersions`: the received versions whose dataset id or name is what the request names. */
  | { type: 'CreateProject'; projectId: string; request: unknown; knownVersions: KnownDatasetVersion[] }
  | { type: 'ArchiveProject'; projectId: string }
  | { type: 'PublishAnnotationSet'; set: Omit<AnnotationSetPublished['data'], 'version' | 'projectId' | 'datasetId' | 'datasetVersion'> };

export const initialProjectState: ProjectState = { status: 'none' };

export function decideProject(state: ProjectState, command: ProjectCommand): AnnotationProjectEvent[] {
  switch (command.type) {
    case 'CreateProject': {
      if (state.status !== 'none') throw new AnnotationException(AnnotationErrorCode.AlreadyExists, `project ${command.projectId} already exists`);
      const parsed = CreateProjectRequest.safeParse(command.request);
      if (!parsed.success) {
        const { detail, fields } = describeIssues(parsed.error.issues);
        throw new AnnotationException(AnnotationErrorCode.InvalidRequest, `invalid project: ${detail}`, fields);
      }
      const p = parsed.data;
      const datasetId = resolveDatasetVersion(p.datasetId, p.datasetVersion, command.knownVersions);
      return [
        {
          type: 'AnnotationProjectCreated',
          data: {
            projectId: command.projectId,
            name: p.name,
            datasetId,
            datasetVersion: p.datasetVersion,
            taskType: p.taskType,
            labels: p.labels ?? [],
            guidelines: p.guidelines,
            annotationsPerItem: p.annotationsPerItem,
            agreementThreshold: p.agreementThreshold,
            maxTextLength: p.maxTextLength ?? DEFAULT_MAX_TEXT_LENGTH,
            reassignRejectedToSameAnnotator: p.reassignRejectedToSameAnnotator ?? false,
          },
        },
      ];
    }
    case 'ArchiveProject': {
      if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.ProjectNotFound, `no annotation project ${command.projectId}`);
      if (state.status === 'archived') throw new AnnotationException(AnnotationErrorCode.ProjectArchived, `project ${state.projectId} is archived already`);
      return [{ type: 'AnnotationProjectArchived', data: { projectId: state.projectId } }];
    }
    case 'PublishAnnotationSet': {
      if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.ProjectNotFound, 'no such project');
      if (command.set.itemCount === 0) {
        throw new AnnotationException(AnnotationErrorCode.NothingToPublish, `project ${state.projectId} has no final item that may be published`);
      }
      return [
        {
          type: 'AnnotationSetPublished',
          data: {
            ...command.set,
            projectId: state.projectId,
            version: state.setVersions + 1,
            datasetId: state.datasetId,
            datasetVersion: state.datasetVersion,
          },
        },
      ];
    }
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

export function evolveProject(state: ProjectState, event: AnnotationProjectEvent): ProjectState {
  switch (event.type) {
    case 'AnnotationProjectCreated': {
      const d = event.data;
      return {
        status: 'created',
        projectId: d.projectId,
        name: d.name,
        datasetId: d.datasetId,
        datasetVersion: d.datasetVersion,
        guidelines: d.guidelines,
        rules: {
          taskType: d.taskType,
          labels: d.labels,
          annotationsPerItem: d.annotationsPerItem,
          agreementThreshold: d.agreementThreshold,
          maxTextLength: d.maxTextLength,
          reassignRejectedToSameAnnotator: d.reassignRejectedToSameAnnotator,
        },
        setVersions: 0,
      };
    }
    case 'AnnotationProjectArchived':
      return state.status === 'none' ? state : { ...state, status: 'archived' };
    case 'AnnotationSetPublished':
      return state.status === 'none' ? state : { ...state, setVersions: event.data.version };
  }
}

/**
 * The dataset id a project request means, checked against the versions annotation has received:
 * a project on a version that never arrives would never get tasks, so it is refused, listing the
 * versions that are there. A name stands for the one dataset id that has had it.
 */
export function resolveDatasetVersion(ref: string, version: number, known: KnownDatasetVersion[]): string {
  const byId = isUuid(ref) ? known.filter((v) => v.datasetId === ref.toLowerCase()) : [];
  let datasetId: string;
  if (byId.length) {
    datasetId = ref.toLowerCase();
  } else {
    const ids = [...new Set(known.filter((v) => v.name === ref).map((v) => v.datasetId))].sort();
    if (ids.length > 1) {
      throw new AnnotationException(
        AnnotationErrorCode.AmbiguousDatasetName,
        `dataset name ${JSON.stringify(ref)} belongs to ${ids.length} datasets (${ids.join(', ')}); give the id as datasetId`,
        ['body.datasetId'],
      );
    }
    if (ids.length === 0) {
      throw new AnnotationException(
        AnnotationErrorCode.UnknownDataset,
        `annotation has received no version of a dataset with id or name ${JSON.stringify(ref)} (yet); a version reaches annotation when ingestion publishes it (GET /annotation/dataset-versions lists those received)`,
        ['body.datasetId'],
      );
    }
    datasetId = ids[0];
  }
  const versions = known.filter((v) => v.datasetId === datasetId).sort((a, b) => a.version - b.version);
  const target = versions.find((v) => v.version === version);
  const name = versions[versions.length - 1].name;
  if (!target) {
    const list = versions.map((v) => (v.status === 'ready' ? String(v.version) : `${v.version} (${v.status})`)).join(', ');
    throw new AnnotationException(
      AnnotationErrorCode.UnknownDatasetVersion,
      `version ${version} of dataset ${JSON.stringify(name)} (${datasetId}) is not known to annotation (yet); known versions: ${list}`,
      ['body.datasetVersion'],
    );
  }
  if (target.status === 'unreadable') {
    throw new AnnotationException(
      AnnotationErrorCode.DatasetVersionUnreadable,
      `version ${version} of dataset ${JSON.stringify(name)} (${datasetId}) arrived but its manifest did not verify, so it has no items (GET /annotation/dataset-versions says why)`,
      ['body.datasetVersion'],
    );
  }
  return datasetId;
}
