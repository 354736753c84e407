import type { DatasetAssetAdded, DatasetAssetRemoved, DatasetCreated, DatasetVersionPublished } from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';

export type DatasetEvent = DatasetCreated | DatasetAssetAdded | DatasetAssetRemoved | DatasetVersionPublished;

export type DatasetState =
  { status: 'none' } | { status: 'created'; datasetId: string; name: string; members: string[]; version: number; lastRoot: string | null };

export const initialDatasetState: DatasetState = { status: 'none' };
export const datasetStream = (datasetId: string) => `dataset-${datasetId}`;

export type DatasetCommand =
  | { type: 'CreateDataset'; datasetId: string; name: string }
  /** `assets`: the catalog's view of each asset to add (null: no such asset). */
  | { type: 'AddAssets'; datasetId: string; assets: { assetId: string; status: 'ingested' | 'erased' | null }[] }
  | { type: 'RemoveAsset'; datasetId: string; assetId: string }
  | {
      type: 'PublishVersion';
      datasetId: string;
      memberCount: number;
      merkleRoot: string;
      manifest: { key: string; sha256: string };
    };

function assertCreated(state: DatasetState, datasetId: string): asserts state is Extract<DatasetState, { status: 'created' }> {
  if (state.status === 'none') throw new IngestionException(IngestionErrorCode.DatasetNotFound, `no dataset ${datasetId}`);
}

/**
 * Publishing rules (decided, documented): an empty member list is refused (EMPTY_DATASET, 400),
 * and so is a member list identical to the last published version (NOTHING_TO_PUBLISH, 409),
 * judged by Merkle root: a version number always means a different content.
 */
export function decideDataset(state: DatasetState, command: DatasetCommand): DatasetEvent[] {
  switch (command.type) {
    case 'CreateDataset': {
      if (state.status !== 'none') throw new IngestionException(IngestionErrorCode.DatasetNameTaken, `dataset ${command.datasetId} already exists`);
      const name = command.name.trim();
      if (name.length === 0 || name.length > 200) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'name must be 1 to 200 characters', ['name']);
      return [{ type: 'DatasetCreated', data: { datasetId: command.datasetId, name } }];
    }
    case 'AddAssets': {
      assertCreated(state, command.datasetId);
      const unavailable = command.assets.filter((a) => a.status !== 'ingested');
      if (unavailable.length > 0) {
        throw new IngestionException(
          IngestionErrorCode.AssetNotAvailable,
          `only ingested, non-erased assets can be added; not: ${unavailable.map((a) => `${a.assetId} (${a.status ?? 'unknown'})`).join(', ')}`,
          ['assetIds'],
        );
      }
      // Adding a member twice is a no-op, so a bulk import can be re-run.
      const fresh = [...new Set(command.assets.map((a) => a.assetId))].filter((id) => !state.members.includes(id));
      return fresh.map((assetId) => ({ type: 'DatasetAssetAdded', data: { datasetId: command.datasetId, assetId } }));
    }
    case 'RemoveAsset':
      assertCreated(state, command.datasetId);
      if (!state.members.includes(command.assetId)) {
        throw new IngestionException(IngestionErrorCode.DatasetMemberConflict, `asset ${command.assetId} is not a member of dataset ${command.datasetId}`);
      }
      return [{ type: 'DatasetAssetRemoved', data: { datasetId: command.datasetId, assetId: command.assetId } }];
    case 'PublishVersion':
      assertCreated(state, command.datasetId);
      if (command.memberCount === 0)
        throw new IngestionException(IngestionErrorCode.EmptyDataset, `dataset ${state.name} has no (non-erased) members to publish`);
      if (command.merkleRoot === state.lastRoot) {
        throw new IngestionException(IngestionErrorCode.NothingToPublish, `dataset ${state.name} has not changed since version ${state.version}`);
      }
      return [
        {
          type: 'DatasetVersionPublished',
          data: {
            datasetId: command.datasetId,
            name: state.name,
            version: state.version + 1,
            merkleRoot: command.merkleRoot,
            memberCount: command.memberCount,
            manifest: { area: 'artifacts', key: command.manifest.key, sha256: command.manifest.sha256 },
          },
        },
      ];
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

export function evolveDataset(state: DatasetState, event: DatasetEvent): DatasetState {
  switch (event.type) {
    case 'DatasetCreated':
      return { status: 'created', datasetId: event.data.datasetId, name: event.data.name, members: [], version: 0, lastRoot: null };
    case 'DatasetAssetAdded':
      return state.status === 'none' ? state : { ...state, members: [...state.members, event.data.assetId] };
    case 'DatasetAssetRemoved':
      return state.status === 'none' ? state : { ...state, members: state.members.filter((m) => m !== event.data.assetId) };
    case 'DatasetVersionPublished':
      return state.status === 'none' ? state : { ...state, version: event.data.version, lastRoot: event.data.merkleRoot };
  }
}

export const datasetDecider: Decider<DatasetState, DatasetCommand, DatasetEvent> = {
  decide: decideDataset,
  evolve: evolveDataset,
  initialState: initialDatasetState,
};
