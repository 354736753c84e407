import type { AnnotationProjectEvent, AnnotationSetPublished } from '@trellis/contracts';
import { AnnotationErrorCode, AnnotationException, describeIssues } from '../annotation.exception';
import { CreateProjectRequest, DEFAULT_MAX_TEXT_LENGTH, ProjectRules } from './project-rules';

export type ProjectState =
  | { status: 'none' }
  | { status: 'created'; projectId: string; name: string; datasetId: string; datasetVersion: number; guidelines: string; rules: ProjectRules; setVersions: number };

export type ProjectCommand =
  | { type: 'CreateProject'; projectId: string; request: unknown }
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
      return [
        {
          type: 'AnnotationProjectCreated',
          data: {
            projectId: command.projectId,
            name: p.name,
            datasetId: p.datasetId.toLowerCase(),
            datasetVersion: p.datasetVersion,
            taskType: p.taskType,
            labels: p.labels ?? [],
            guidelines: p.guidelines,
            annotationsPerItem: p.annotationsPerItem,
            agreementThreshold: p.agreementThreshold,
            maxTextLength: p.maxTextLength ?? DEFAULT_MAX_TEXT_LENGTH,
          },
        },
      ];
    }
    case 'PublishAnnotationSet': {
      if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.ProjectNotFound, 'no such project');
      if (command.set.itemCount === 0) {
        throw new AnnotationException(AnnotationErrorCode.NothingToPublish, `project ${state.projectId} has no final item that may be published`);
      }
      return [
        {
          type: 'AnnotationSetPublished',
          data: { ...command.set, projectId: state.projectId, version: state.setVersions + 1, datasetId: state.datasetId, datasetVersion: state.datasetVersion },
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
        rules: { taskType: d.taskType, labels: d.labels, annotationsPerItem: d.annotationsPerItem, agreementThreshold: d.agreementThreshold, maxTextLength: d.maxTextLength },
        setVersions: 0,
      };
    }
    case 'AnnotationSetPublished':
      return state.status === 'none' ? state : { ...state, setVersions: event.data.version };
  }
}
