import type { DatasetManifest } from '@trellis/contracts';

/** One image of a published dataset version, with the report that describes it (annotator context). */
export interface VersionItem {
  itemId: string;
  subjectId: string;
  imageKey: string;
  reportAssetId: string | null;
  reportKey: string | null;
}

/**
 * One item per image member. Annotators see the model's input (the 224x224 derivative when there
 * is one, else the curated image). A report names the image it describes; when several do, the
 * first by asset id is the context, so the choice does not depend on manifest order.
 */
export function itemsFromManifest(manifest: DatasetManifest): VersionItem[] {
  const reports = manifest.members.filter((m) => m.kind === 'report' && m.describesAssetId).sort((a, b) => a.assetId.localeCompare(b.assetId));
  return manifest.members
    .filter((m) => m.kind === 'image')
    .sort((a, b) => a.assetId.localeCompare(b.assetId))
    .map((m) => {
      const report = reports.find((r) => r.describesAssetId === m.assetId);
      return {
        itemId: m.assetId,
        subjectId: m.subjectId,
        imageKey: m.derivativeKey ?? m.curatedKey,
        reportAssetId: report?.assetId ?? null,
        reportKey: report?.curatedKey ?? null,
      };
    });
}
