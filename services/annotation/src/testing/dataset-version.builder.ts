import { createHash } from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';
import { canonicalJson, DatasetManifest, DatasetMember, DatasetVersionPublished } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Builder for a published dataset version as ingestion publishes it: image members (one subject
 * each unless told otherwise), optionally a report describing an image, the canonical manifest
 * written to `artifacts`, and the DatasetVersionPublished data naming its key and hash.
 */
export class DatasetVersionBuilder {
  readonly datasetId = uuidv4();
  private readonly members: DatasetMember[] = [];
  private version = 1;

  withVersion(version: number): this {
    this.version = version;
    return this;
  }

  image(subjectId: string = uuidv4(), assetId: string = uuidv4()): this {
    this.members.push({
      assetId,
      subjectId,
      kind: 'image',
      mimeType: 'image/png',
      sha256: sha(`raw-${assetId}`),
      curatedKey: `curated/${sha(`cur-${assetId}`)}`,
      curatedSha256: sha(`cur-${assetId}`),
      derivativeKey: `curated/derivatives/${sha(`der-${assetId}`)}`,
      describesAssetId: null,
    });
    return this;
  }

  /** A report of the same subject describing the image added last. */
  reportForLastImage(): this {
    const image = [...this.members].reverse().find((m) => m.kind === 'image')!;
    const assetId = uuidv4();
    this.members.push({
      assetId,
      subjectId: image.subjectId,
      kind: 'report',
      mimeType: 'text/plain',
      sha256: sha(`raw-${assetId}`),
      curatedKey: `curated/${sha(`cur-${assetId}`)}`,
      curatedSha256: sha(`cur-${assetId}`),
      derivativeKey: null,
      describesAssetId: image.assetId,
    });
    return this;
  }

  images(): DatasetMember[] {
    return this.members.filter((m) => m.kind === 'image').sort((a, b) => a.assetId.localeCompare(b.assetId));
  }

  manifest(): DatasetManifest {
    const members = [...this.members].sort((a, b) => a.assetId.localeCompare(b.assetId));
    return { datasetId: this.datasetId, name: 'chest films', version: this.version, members, merkleRoot: sha(members.map((m) => m.sha256).join('')) };
  }

  /** Writes the manifest through the given storage and returns the event data that announces it. */
  async publish(storage: ObjectStorage): Promise<DatasetVersionPublished['data']> {
    const manifest = this.manifest();
    const stored = await storage.putBuffer('artifacts', Buffer.from(canonicalJson(manifest), 'utf8'), {
      prefix: `datasets/${this.datasetId}/`,
      contentType: 'application/json',
    });
    return {
      datasetId: this.datasetId,
      name: manifest.name,
      version: manifest.version,
      merkleRoot: manifest.merkleRoot,
      memberCount: manifest.members.length,
      manifest: { area: 'artifacts', key: stored.key, sha256: stored.sha256 },
    };
  }
}
