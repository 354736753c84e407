import { deciderSpec } from '@trellis/testing';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { DatasetCommand, DatasetEvent, DatasetState, decideDataset, evolveDataset, initialDatasetState } from './dataset.decider';

const spec = deciderSpec<DatasetState, DatasetCommand, DatasetEvent>({ decide: decideDataset, evolve: evolveDataset, initialState: initialDatasetState });
const datasetId = 'd1c2b0e4-4a5d-4c3b-9e8f-0a1b2c3d4e5f';
const a1 = 'a0000000-0000-4000-8000-000000000001';
const a2 = 'a0000000-0000-4000-8000-000000000002';
const root1 = '1'.repeat(64);
const created: DatasetEvent = { type: 'DatasetCreated', data: { datasetId, name: 'chest' } };
const added = (assetId: string): DatasetEvent => ({ type: 'DatasetAssetAdded', data: { datasetId, assetId } });
const published: DatasetEvent = {
  type: 'DatasetVersionPublished',
  data: {
    datasetId,
    name: 'chest',
    version: 1,
    merkleRoot: root1,
    memberCount: 1,
    manifest: { area: 'artifacts', key: `datasets/${datasetId}/${'f'.repeat(64)}`, sha256: 'f'.repeat(64) },
  },
};
const publish = (merkleRoot: string, memberCount = 1): DatasetCommand => ({
  type: 'PublishVersion',
  datasetId,
  memberCount,
  merkleRoot,
  manifest: { key: 'k', sha256: 'e'.repeat(64) },
});
const code = (expected: IngestionErrorCode) => (err: unknown) => {
  expect(err).toBeInstanceOf(IngestionException);
  expect((err as IngestionException).code).toBe(expected);
};

describe('decideDataset', () => {
  describe('CreateDataset', () => {
    it('creates a dataset with a trimmed name', () => {
      spec.given([]).when({ type: 'CreateDataset', datasetId, name: '  chest ' }).then([created]);
    });
  });

  describe('AddAssets', () => {
    it('adds new members once and ignores members already present', () => {
      spec
        .given([created, added(a1)])
        .when({
          type: 'AddAssets',
          datasetId,
          assets: [
            { assetId: a1, status: 'ingested' },
            { assetId: a2, status: 'ingested' },
            { assetId: a2, status: 'ingested' },
          ],
        })
        .then([added(a2)]);
    });

    it('refuses erased and unknown assets, naming them', () => {
      spec
        .given([created])
        .when({
          type: 'AddAssets',
          datasetId,
          assets: [
            { assetId: a1, status: 'erased' },
            { assetId: a2, status: null },
          ],
        })
        .thenThrows((err) => {
          code(IngestionErrorCode.AssetNotAvailable)(err);
          expect((err as Error).message).toContain(`${a1} (erased)`);
          expect((err as Error).message).toContain(`${a2} (unknown)`);
        });
    });

    it('refuses an unknown dataset', () => {
      spec
        .given([])
        .when({ type: 'AddAssets', datasetId, assets: [{ assetId: a1, status: 'ingested' }] })
        .thenThrows(code(IngestionErrorCode.DatasetNotFound));
    });
  });

  describe('RemoveAsset', () => {
    it('removes a member and refuses a non-member', () => {
      spec
        .given([created, added(a1)])
        .when({ type: 'RemoveAsset', datasetId, assetId: a1 })
        .then([{ type: 'DatasetAssetRemoved', data: { datasetId, assetId: a1 } }]);
      spec.given([created]).when({ type: 'RemoveAsset', datasetId, assetId: a1 }).thenThrows(code(IngestionErrorCode.DatasetMemberConflict));
    });
  });

  describe('PublishVersion', () => {
    it('publishes version 1, then version 2 for a changed member list', () => {
      spec
        .given([created, added(a1)])
        .when(publish(root1))
        .then([{ ...published, data: { ...published.data, manifest: { area: 'artifacts', key: 'k', sha256: 'e'.repeat(64) } } }]);
      spec
        .given([created, added(a1), published, added(a2)])
        .when(publish('2'.repeat(64), 2))
        .then([
          {
            type: 'DatasetVersionPublished',
            data: {
              datasetId,
              name: 'chest',
              version: 2,
              merkleRoot: '2'.repeat(64),
              memberCount: 2,
              manifest: { area: 'artifacts', key: 'k', sha256: 'e'.repeat(64) },
            },
          },
        ]);
    });

    it('refuses an empty dataset and an unchanged member list', () => {
      spec
        .given([created])
        .when(publish('3'.repeat(64), 0))
        .thenThrows(code(IngestionErrorCode.EmptyDataset));
      spec
        .given([created, added(a1), published])
        .when(publish(root1))
        .thenThrows(code(IngestionErrorCode.NothingToPublish));
    });
  });
});
