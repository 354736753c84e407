import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRgbPng, generateSyntheticDataset, SYNTHETIC_MIME_TYPES } from './dataset.generator';
import { SyntheticOptions } from './synthetic.types';

export interface SyntheticManifestLine {
  /** Relative to the folder. */
  path: string;
  subjectRef: string;
  kind: 'image' | 'report';
  mimeType: string;
  /** Reports only: the path of the image the report describes. */
  describes?: string;
}

const EXTENSION: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'application/dicom': 'dcm' };

/**
 * Writes the data set as files a data steward would receive: images/, reports/, a
 * manifest.jsonl (one line per file) and subjects.jsonl (identities and consents), for the CLI
 * and the demo. 'raw' images are written as PNG, since raw RGB is not a file format.
 */
export async function writeSyntheticFolder(dir: string, options: SyntheticOptions): Promise<{ manifestPath: string; subjectsPath: string }> {
  const { subjects, items } = generateSyntheticDataset(options);
  await mkdir(join(dir, 'images'), { recursive: true });
  await mkdir(join(dir, 'reports'), { recursive: true });
  const manifest: SyntheticManifestLine[] = [];
  for (const item of items) {
    const encoded = item.encoded ?? { mimeType: SYNTHETIC_MIME_TYPES.png, bytes: encodeRgbPng(item.rgb, item.width, item.height) };
    const imagePath = `images/${item.itemRef}.${EXTENSION[encoded.mimeType]}`;
    const reportPath = `reports/${item.itemRef}.txt`;
    await writeFile(join(dir, imagePath), encoded.bytes);
    await writeFile(join(dir, reportPath), item.report, 'utf8');
    manifest.push({ path: imagePath, subjectRef: item.subjectRef, kind: 'image', mimeType: encoded.mimeType });
    manifest.push({ path: reportPath, subjectRef: item.subjectRef, kind: 'report', mimeType: 'text/plain', describes: imagePath });
  }
  const manifestPath = join(dir, 'manifest.jsonl');
  const subjectsPath = join(dir, 'subjects.jsonl');
  await writeFile(manifestPath, manifest.map((l) => JSON.stringify(l)).join('\n') + '\n', 'utf8');
  await writeFile(
    subjectsPath,
    subjects.map((s) => JSON.stringify({ subjectRef: s.subjectRef, name: s.name, birthDate: s.birthDate, mrn: s.mrn, consents: s.consents })).join('\n') + '\n',
    'utf8',
  );
  return { manifestPath, subjectsPath };
}
