import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { createSyntheticDicom, syntheticDicomIdentity } from './dicom-writer';
import { labelOf, renderFinding } from './finding-renderer';
import { mixSeed, Prng } from './prng';
import { writeReport } from './report-writer';
import {
  COLORS,
  POSITIONS,
  SHAPES,
  SIZES,
  SyntheticDataset,
  SyntheticFinding,
  SyntheticItem,
  SyntheticOptions,
  SyntheticPurpose,
  SyntheticSubject,
} from './synthetic.types';

const GIVEN = [
  'Amelia',
  'Benedikt',
  'Carmen',
  'Desmond',
  'Eloise',
  'Fabian',
  'Giulia',
  'Henrik',
  'Isabel',
  'Julian',
  'Katarina',
  'Leopold',
  'Mirela',
  'Nikolai',
  'Ophelia',
  'Quentin',
  'Rosalind',
  'Sebastian',
  'Theodora',
  'Valentin',
];
const FAMILY = [
  'Albrecht',
  'Brennan',
  'Carvalho',
  'Delacroix',
  'Engstrom',
  'Fitzgerald',
  'Gallagher',
  'Hartmann',
  'Iglesias',
  'Jablonski',
  'Kowalczyk',
  'Lindholm',
  'Montague',
  'Nakamura',
  'Oyelaran',
  'Pemberton',
  'Quist',
  'Rasmussen',
  'Sandoval',
  'Thorvaldsen',
];

export const SYNTHETIC_MIME_TYPES = { png: 'image/png', jpeg: 'image/jpeg', dicom: 'application/dicom' } as const;

/**
 * A deterministic synthetic domain data set: subjects with consents (a fraction withdrawn),
 * and per subject items of image + report + caption + question/answer pairs. The same options
 * always give byte-identical output.
 */
export function generateSyntheticDataset(options: SyntheticOptions): SyntheticDataset {
  const { seed, subjects: subjectCount, itemsPerSubject } = options;
  const size = options.imageSize ?? 64;
  const format = options.imageFormat ?? 'raw';
  const withdrawnFraction = options.withdrawnFraction ?? 0.2;
  if (!Number.isInteger(subjectCount) || subjectCount < 0 || subjectCount > 9999)
    throw new RangeError(`subjects must be an integer in [0, 9999], got ${subjectCount}`);
  if (!Number.isInteger(itemsPerSubject) || itemsPerSubject < 0 || itemsPerSubject > 99)
    throw new RangeError(`itemsPerSubject must be an integer in [0, 99], got ${itemsPerSubject}`);
  if (!(withdrawnFraction >= 0 && withdrawnFraction <= 1)) throw new RangeError(`withdrawnFraction must be in [0, 1], got ${withdrawnFraction}`);
  if (!['raw', 'png', 'jpeg', 'dicom'].includes(format)) throw new RangeError(`imageFormat must be one of raw, png, jpeg, dicom, got ${String(format)}`);

  const root = new Prng(seed);
  const withdrawn = withdrawnSet(root.fork(1), subjectCount, withdrawnFraction);
  const subjects: SyntheticSubject[] = [];
  const items: SyntheticItem[] = [];

  for (let s = 0; s < subjectCount; s++) {
    const rng = new Prng(mixSeed(seed, 1000 + s));
    const subject = makeSubject(rng, seed, s, withdrawn.has(s));
    subjects.push(subject);
    for (let k = 0; k < itemsPerSubject; k++) {
      const itemRng = new Prng(mixSeed(mixSeed(seed, 1000 + s), 7 + k));
      items.push(makeItem(itemRng, subject, k, size, format));
    }
  }
  return { subjects, items };
}

/** Exactly round(fraction * n) subjects, chosen by a seeded shuffle. */
function withdrawnSet(rng: Prng, n: number, fraction: number): Set<number> {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return new Set(order.slice(0, Math.round(fraction * n)));
}

function makeSubject(rng: Prng, seed: number, index: number, withdrawn: boolean): SyntheticSubject {
  const name = `${rng.pick(GIVEN)} ${rng.pick(FAMILY)}`;
  const birthDate = `${rng.int(1928, 2002)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
  const purposes: SyntheticPurpose[] = ['model-training', 'research'];
  if (rng.next() < 0.7) purposes.push('human-annotation');
  return {
    // The seed is part of the reference: another seed makes other people, and one reference
    // with two identities is refused as a conflict (a reused reference must not claim a person).
    subjectRef: `S${seed}-${String(index + 1).padStart(4, '0')}`,
    name,
    birthDate,
    mrn: `MRN${rng.digits(7)}`,
    consents: [
      {
        purposes,
        decision: 'permit',
        start: `${rng.int(2019, 2023)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}T09:00:00Z`,
        withdrawn,
      },
    ],
  };
}

function makeItem(rng: Prng, subject: SyntheticSubject, index: number, size: number, format: NonNullable<SyntheticOptions['imageFormat']>): SyntheticItem {
  const shape = rng.pick(SHAPES);
  const findingSize = rng.pick(SIZES);
  const finding: SyntheticFinding = { shape, color: rng.pick(COLORS), position: rng.pick(POSITIONS), size: findingSize, label: labelOf(shape, findingSize) };
  const rgb = renderFinding(finding, size, rng.int(0, 0x7fffffff));
  return {
    itemRef: `${subject.subjectRef}-I${String(index + 1).padStart(2, '0')}`,
    subjectRef: subject.subjectRef,
    finding,
    width: size,
    height: size,
    rgb,
    encoded: encode(rng, format, rgb, size, subject),
    report: writeReport(rng.fork(3), subject, finding),
    caption: captionOf(finding),
    qa: questionsOf(finding),
  };
}

function encode(
  rng: Prng,
  format: NonNullable<SyntheticOptions['imageFormat']>,
  rgb: Uint8Array,
  size: number,
  subject: SyntheticSubject,
): SyntheticItem['encoded'] {
  switch (format) {
    case 'raw':
      return null;
    case 'png':
      return { mimeType: SYNTHETIC_MIME_TYPES.png, bytes: encodeRgbPng(rgb, size, size) };
    case 'jpeg':
      return { mimeType: SYNTHETIC_MIME_TYPES.jpeg, bytes: encodeRgbJpeg(rgb, size, size) };
    case 'dicom':
      return {
        mimeType: SYNTHETIC_MIME_TYPES.dicom,
        bytes: createSyntheticDicom(
          { width: size, height: size, rgb, photometric: rng.next() < 0.5 ? 'RGB' : 'MONOCHROME2' },
          syntheticDicomIdentity(rng.fork(5), subject),
        ),
      };
  }
}

export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Buffer {
  // colorType 2 = truecolour without alpha; pngjs takes RGB input when inputHasAlpha is false.
  return PNG.sync.write({ width, height, data: Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength) } as PNG, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
  });
}

export function encodeRgbJpeg(rgb: Uint8Array, width: number, height: number, quality = 90): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i];
    rgba[j + 1] = rgb[i + 1];
    rgba[j + 2] = rgb[i + 2];
    rgba[j + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

export function captionOf(f: SyntheticFinding): string {
  return `A ${f.size} ${f.color} ${f.shape} in the ${f.position}.`;
}

export function questionsOf(f: SyntheticFinding): { question: string; answer: string }[] {
  return [
    { question: 'What shape is the finding?', answer: f.shape },
    { question: 'What color is the finding?', answer: f.color },
    { question: 'Where is the finding?', answer: f.position },
    { question: 'Is the finding small or large?', answer: f.size },
    { question: 'What is the finding?', answer: f.label },
  ];
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
