export type SyntheticImageFormat = 'raw' | 'png' | 'jpeg' | 'dicom';

export interface SyntheticOptions {
  seed: number;
  subjects: number;
  itemsPerSubject: number;
  /** Square images of this many pixels a side; default 64. */
  imageSize?: number;
  /** Default 'raw' (no encoded bytes, only `rgb`). */
  imageFormat?: SyntheticImageFormat;
  /** Share of subjects whose consent is withdrawn; default 0.2. */
  withdrawnFraction?: number;
}

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export const COLORS = ['red', 'green', 'blue', 'white'] as const;
export const POSITIONS = ['upper left', 'upper right', 'lower left', 'lower right', 'center'] as const;
export const SIZES = ['small', 'large'] as const;
export const LABELS = ['normal', 'nodule', 'mass', 'effusion'] as const;

export interface SyntheticFinding {
  shape: (typeof SHAPES)[number];
  color: (typeof COLORS)[number];
  position: (typeof POSITIONS)[number];
  size: (typeof SIZES)[number];
  label: (typeof LABELS)[number];
}

export type SyntheticPurpose = 'model-training' | 'research' | 'human-annotation';

export interface SyntheticConsent {
  purposes: SyntheticPurpose[];
  decision: 'permit';
  /** ISO 8601 date-time with offset. */
  start: string;
  withdrawn: boolean;
}

export interface SyntheticSubject {
  /** 'S<seed>-0001', 'S<seed>-0002', ... */
  subjectRef: string;
  name: string;
  /** YYYY-MM-DD */
  birthDate: string;
  mrn: string;
  consents: SyntheticConsent[];
}

export interface SyntheticItem {
  /** 'S<seed>-0001-I01' */
  itemRef: string;
  subjectRef: string;
  finding: SyntheticFinding;
  width: number;
  height: number;
  /** width * height * 3, row-major RGB. */
  rgb: Uint8Array;
  /** The image in `imageFormat`; null for 'raw'. */
  encoded: { mimeType: string; bytes: Buffer } | null;
  /** Radiology-style report: the finding plus fake personal identifiers of every HIPAA kind. */
  report: string;
  caption: string;
  qa: { question: string; answer: string }[];
}

export interface SyntheticDataset {
  subjects: SyntheticSubject[];
  items: SyntheticItem[];
}
