import { createHmac } from 'node:crypto';
import { data as dcmjsData, DicomDataset, DicomElement } from 'dcmjs';
import { BASIC_PROFILE_ACTIONS, BasicProfileAction } from './dicom-attribute-actions';
import { AssetValidationCode, AssetValidationError } from './processing.exception';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjsData;

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const SUPPORTED_SYNTAXES = new Set([IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN]);
/** Transfer syntaxes we refuse, by name, so the message says which one arrived. */
const SYNTAX_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian (retired)',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, First-Order Prediction (Process 14 SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

/** Our implementation's UID (a 2.25 UUID-derived UID) and version, written into the file meta. */
const IMPLEMENTATION_CLASS_UID = '2.25.215828946378402749536398302862414207937';
const IMPLEMENTATION_VERSION = 'TRELLIS_DEID_1';

export interface DeidentifyOptions {
  /** Secret of this deployment: the same UID always maps to the same replacement under one key. */
  uidKey: Buffer | string;
  /** Goes into PatientID, so the curated file still links to the (pseudonymous) subject. */
  pseudonym: string;
  /** Rows x Columns are checked against this before any pixel buffer is made. Default 100 M. */
  maxPixels?: number;
}

export interface DeidentifiedDicom {
  dicom: Buffer;
  width: number;
  height: number;
  rgb: Uint8Array;
  record: { method: 'dicom-ps3.15-e1-basic'; options: string[]; summary: Record<string, number> };
}

/** What the record says was applied; profile options not listed are not applied. */
export const DICOM_DEID_OPTIONS = [
  'basic-application-level-confidentiality-profile',
  'retain-longitudinal-temporal-off', // dates and times are emptied or removed, not shifted
  'retain-patient-characteristics-off',
  'retain-device-identity-off',
  'retain-institution-identity-off',
  'retain-uids-off', // UIDs replaced by HMAC-derived 2.25 UIDs, consistent across files
  'clean-descriptors-off', // free-text descriptions and comments are removed, not cleaned
  'clean-pixel-data-off', // burned-in annotations in the pixels are NOT cleaned
  'clean-graphics-off', // overlays and curves are removed instead
  'private-attributes-removed',
];

interface Counts {
  replacedWithDummy: number;
  zeroLength: number;
  removed: number;
  uidsReplaced: number;
  kept: number;
  privateRemoved: number;
}

/**
 * De-identifies a DICOM Part 10 file with the PS3.15 Annex E Basic Application Level
 * Confidentiality Profile (attribute actions in dicom-attribute-actions.ts), writes it back as
 * Explicit VR Little Endian, and renders its first frame to RGB. Only uncompressed pixel data
 * is supported: a compressed transfer syntax is refused naming the syntax.
 */
export function deidentifyDicom(bytes: Uint8Array, options: DeidentifyOptions): DeidentifiedDicom {
  const parsed = parseDicom(bytes);
  const syntax = String(parsed.meta['00020010']?.Value?.[0] ?? '').trim();
  if (!SUPPORTED_SYNTAXES.has(syntax)) {
    throw new AssetValidationError(
      AssetValidationCode.UNSUPPORTED_DICOM,
      `transfer syntax ${syntax || '(missing)'}${SYNTAX_NAMES[syntax] ? ` (${SYNTAX_NAMES[syntax]})` : ''} is not supported: only uncompressed Implicit/Explicit VR Little Endian`,
    );
  }
  const rendered = renderPixels(parsed.dict, options.maxPixels ?? 100_000_000);
  assertPixelDataComplete(bytes, syntax === IMPLICIT_VR_LITTLE_ENDIAN, rendered.frameBytes);

  const uidKey = typeof options.uidKey === 'string' ? Buffer.from(options.uidKey, 'utf8') : options.uidKey;
  const counts: Counts = { replacedWithDummy: 0, zeroLength: 0, removed: 0, uidsReplaced: 0, kept: 0, privateRemoved: 0 };
  const mapUid = (uid: string) => replacementUid(uidKey, uid);
  const dataset = deidentifyDataset(parsed.dict, counts, mapUid);

  // PatientID carries the pseudonym (D) rather than being emptied, so the file links to the subject.
  dataset['00100020'] = { vr: 'LO', Value: [options.pseudonym] };
  counts.replacedWithDummy++;
  counts.zeroLength = Math.max(0, counts.zeroLength - (parsed.dict['00100020'] ? 1 : 0));
  Object.assign(dataset, profileMarkers());
  // Pixel data re-stated with a definite VR: implicit-VR input leaves it ambiguous.
  dataset['7FE00010'] = { vr: rendered.bitsAllocated > 8 ? 'OW' : 'OB', Value: [rendered.pixelBytes] };

  const sopInstance = dataset['00080018']?.Value?.[0] as string | undefined;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: String(parsed.meta['00020002']?.Value?.[0] ?? dataset['00080016']?.Value?.[0] ?? ''),
    MediaStorageSOPInstanceUID: sopInstance ?? mapUid(String(parsed.meta['00020003']?.Value?.[0] ?? '')),
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  let out: Buffer;
  try {
    const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
    dict.dict = sortedByTag(dataset);
    out = Buffer.from(dict.write());
  } catch (err) {
    throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the de-identified DICOM could not be written (${reason(err)})`);
  }

  return {
    dicom: out,
    width: rendered.width,
    height: rendered.height,
    rgb: rendered.rgb,
    record: { method: 'dicom-ps3.15-e1-basic', options: [...DICOM_DEID_OPTIONS], summary: { ...counts } },
  };
}

/** Rows and Columns from the header, for probeImage (stops before the pixel data). */
export function readDicomDimensions(bytes: Uint8Array): { width: number; height: number } {
  const parsed = parseDicom(bytes, '7FE00010');
  const rows = Number(parsed.dict['00280010']?.Value?.[0]);
  const columns = Number(parsed.dict['00280011']?.Value?.[0]);
  if (!Number.isInteger(rows) || !Number.isInteger(columns)) {
    throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, 'the DICOM data set has no Rows/Columns (not an image)');
  }
  return { width: columns, height: rows };
}

/** 2.25.<decimal of the first 128 bits of HMAC-SHA256(key, uid)>: deterministic, unlinkable without the key. */
export function replacementUid(key: Buffer, uid: string): string {
  const digest = createHmac('sha256', key).update(uid.trim()).digest();
  return `2.25.${BigInt('0x' + digest.subarray(0, 16).toString('hex')).toString(10)}`;
}

function parseDicom(bytes: Uint8Array, untilTag: string | null = null): { meta: DicomDataset; dict: DicomDataset } {
  if (bytes.length === 0) throw new AssetValidationError(AssetValidationCode.EMPTY_FILE, 'the file is empty');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 132 || b.toString('latin1', 128, 132) !== 'DICM') {
    throw new AssetValidationError(AssetValidationCode.WRONG_MAGIC, 'the bytes are not a DICOM Part 10 file (no DICM after the 128-byte preamble)');
  }
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  try {
    const dict = DicomMessage.readFile(ab, { untilTag, includeUntilTagValue: false });
    return { meta: dict.meta, dict: dict.dict };
  } catch (err) {
    const why = reason(err);
    const truncated = /more than|out of (range|bounds)|beyond|end of/i.test(why);
    throw new AssetValidationError(
      truncated ? AssetValidationCode.TRUNCATED : AssetValidationCode.DECODE_FAILED,
      truncated ? 'the DICOM file ends inside a data element (cut short)' : `the DICOM data set could not be parsed (${why})`,
    );
  }
}

function deidentifyDataset(ds: DicomDataset, counts: Counts, mapUid: (uid: string) => string): DicomDataset {
  const out: DicomDataset = {};
  for (const [tag, element] of Object.entries(ds)) {
    const group = parseInt(tag.slice(0, 4), 16);
    if (group % 2 === 1) {
      counts.privateRemoved++;
      continue;
    }
    if (tag === '7FE00010') continue; // re-added by the caller
    // Curves (50xx) and overlays (60xx) may carry burned-in text: removed (no Clean Graphics).
    if ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) {
      counts.removed++;
      continue;
    }
    const listed = BASIC_PROFILE_ACTIONS[tag.toUpperCase()];
    const action: BasicProfileAction = listed?.action ?? (element.vr === 'UI' ? 'U' : 'K');
    switch (action) {
      case 'X':
        counts.removed++;
        break;
      case 'Z':
        out[tag] = { vr: element.vr, Value: [] };
        counts.zeroLength++;
        break;
      case 'D':
        out[tag] =
          element.vr === 'SQ'
            ? { vr: 'SQ', Value: items(element).map((i) => deidentifyDataset(i, counts, mapUid)) }
            : { vr: element.vr, Value: [dummyFor(element.vr)] };
        counts.replacedWithDummy++;
        break;
      case 'U':
        out[tag] = replaceUids(element, counts, mapUid);
        break;
      case 'K':
        if (element.vr === 'SQ') out[tag] = { vr: 'SQ', Value: items(element).map((i) => deidentifyDataset(i, counts, mapUid)) };
        else out[tag] = { vr: element.vr, Value: element.Value ?? [] };
        counts.kept++;
        break;
    }
  }
  return out;
}

function replaceUids(element: DicomElement, counts: Counts, mapUid: (uid: string) => string): DicomElement {
  if (element.vr === 'SQ') return { vr: 'SQ', Value: items(element).map((i) => deidentifyDataset(i, counts, mapUid)) };
  const values = (element.Value ?? []).map((v) => {
    const uid = String(v).replace(/\0/g, '').trim();
    // UIDs under the standard's root name SOP classes, transfer syntaxes and the like: not identifying.
    if (uid === '' || uid.startsWith('1.2.840.10008.')) return uid;
    counts.uidsReplaced++;
    return mapUid(uid);
  });
  return { vr: element.vr, Value: values };
}

function items(element: DicomElement): DicomDataset[] {
  return (element.Value ?? []) as DicomDataset[];
}

function dummyFor(vr: string): string {
  switch (vr) {
    case 'DA':
      return '19000101';
    case 'TM':
      return '000000';
    case 'DT':
      return '19000101000000';
    case 'PN':
      return 'ANONYMIZED';
    default:
      return 'ANONYMIZED';
  }
}

/** PS3.15 E.1.1: say that and how the file was de-identified. */
function profileMarkers(): DicomDataset {
  const markers = DicomMetaDictionary.denaturalizeDataset({
    PatientIdentityRemoved: 'YES',
    DeidentificationMethod: 'DICOM PS3.15 E.1 Basic Application Level Confidentiality Profile (Trellis); burned-in annotations not cleaned',
    DeidentificationMethodCodeSequence: [{ CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' }],
    LongitudinalTemporalInformationModified: 'REMOVED',
  });
  return markers;
}

function sortedByTag(ds: DicomDataset): DicomDataset {
  const out: DicomDataset = {};
  for (const tag of Object.keys(ds).sort()) out[tag] = ds[tag];
  return out;
}

interface RenderedPixels {
  width: number;
  height: number;
  rgb: Uint8Array;
  bitsAllocated: number;
  /** The original pixel data, all frames, unchanged (the Basic profile does not alter pixels). */
  pixelBytes: ArrayBuffer;
  /** Bytes one frame needs. */
  frameBytes: number;
}

/**
 * dcmjs hands back a full-length Pixel Data value even when the file ends early (the rest
 * comes from its growing read buffer), so truncation is checked against the element's own
 * header: the first Pixel Data tag (7FE0,0010) with a plausible header must fit in the file.
 */
function assertPixelDataComplete(bytes: Uint8Array, implicitVr: boolean, frameBytes: number): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
  for (let i = b.indexOf(tag, 132); i >= 0 && i + 8 <= b.length; i = b.indexOf(tag, i + 1)) {
    let header: number;
    let length: number;
    if (implicitVr) {
      header = 8;
      length = b.readUInt32LE(i + 4);
      if (length < frameBytes || length === 0xffffffff) continue;
    } else {
      if (i + 12 > b.length) break;
      const vr = b.toString('latin1', i + 4, i + 6);
      if ((vr !== 'OB' && vr !== 'OW') || b.readUInt16LE(i + 6) !== 0) continue;
      header = 12;
      length = b.readUInt32LE(i + 8);
    }
    if (i + header + length > b.length) {
      throw new AssetValidationError(
        AssetValidationCode.TRUNCATED,
        `the DICOM Pixel Data declares ${length} bytes but the file ends ${i + header + length - b.length} bytes early`,
      );
    }
    return;
  }
}

function first(ds: DicomDataset, tag: string): unknown {
  return ds[tag]?.Value?.[0];
}

function num(ds: DicomDataset, tag: string, fallback?: number): number {
  const v = first(ds, tag);
  const n = v === undefined || v === null || v === '' ? NaN : Number(v);
  if (Number.isFinite(n)) return n;
  if (fallback !== undefined) return fallback;
  throw new AssetValidationError(
    AssetValidationCode.DECODE_FAILED,
    `the DICOM image lacks a valid ${DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.name ?? tag}`,
  );
}

/**
 * First frame to RGB. Monochrome: stored value (masked to Bits Stored, sign-extended when
 * signed) -> Rescale Slope/Intercept -> VOI window (Window Center/Width, PS3.3 C.11.2.1.2
 * linear function) or, without one, the frame's min..max -> 0..255, inverted for MONOCHROME1.
 * RGB: 8-bit, interleaved or planar. Other photometric interpretations are refused.
 */
function renderPixels(ds: DicomDataset, maxPixels: number): RenderedPixels {
  const rows = num(ds, '00280010');
  const columns = num(ds, '00280011');
  if (rows <= 0 || columns <= 0) throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the DICOM image declares ${columns}x${rows} pixels`);
  if (rows * columns > maxPixels) {
    throw new AssetValidationError(AssetValidationCode.TOO_MANY_PIXELS, `the DICOM header declares ${columns}x${rows} pixels; the limit is ${maxPixels}`);
  }
  const photometric = String(first(ds, '00280004') ?? '').trim();
  const samples = num(ds, '00280002', 1);
  const bitsAllocated = num(ds, '00280100');
  const bitsStored = num(ds, '00280101', bitsAllocated);
  const signed = num(ds, '00280103', 0) === 1;
  const pixelElement = ds['7FE00010'];
  if (!pixelElement) throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, 'the DICOM file has no Pixel Data');
  const pixelBytes = toArrayBuffer(pixelElement.Value?.[0]);
  const px = Buffer.from(pixelBytes);
  const n = rows * columns;

  if (photometric === 'RGB') {
    if (samples !== 3 || bitsAllocated !== 8)
      throw new AssetValidationError(
        AssetValidationCode.UNSUPPORTED_DICOM,
        `RGB with ${samples} samples of ${bitsAllocated} bits is not supported (only 8-bit)`,
      );
    if (px.length < n * 3) throw truncatedPixels(px.length, n * 3);
    const planar = num(ds, '00280006', 0) === 1;
    const rgb = new Uint8Array(n * 3);
    if (!planar) rgb.set(px.subarray(0, n * 3));
    else for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = px[c * n + p];
    return { width: columns, height: rows, rgb, bitsAllocated, pixelBytes, frameBytes: n * 3 };
  }
  if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw new AssetValidationError(
      AssetValidationCode.UNSUPPORTED_DICOM,
      `photometric interpretation ${photometric || '(missing)'} is not supported (only MONOCHROME1, MONOCHROME2, RGB)`,
    );
  }
  if (samples !== 1 || (bitsAllocated !== 8 && bitsAllocated !== 16)) {
    throw new AssetValidationError(
      AssetValidationCode.UNSUPPORTED_DICOM,
      `monochrome with ${samples} samples of ${bitsAllocated} bits is not supported (only 8 or 16)`,
    );
  }
  const bytesPer = bitsAllocated / 8;
  if (px.length < n * bytesPer) throw truncatedPixels(px.length, n * bytesPer);

  const slope = num(ds, '00281053', 1);
  const intercept = num(ds, '00281052', 0);
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  const values = new Float64Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < n; p++) {
    let v = bytesPer === 1 ? px[p] : px.readUInt16LE(p * 2);
    v &= mask;
    if (signed && v & signBit) v -= mask + 1;
    const m = v * slope + intercept;
    values[p] = m;
    if (m < min) min = m;
    if (m > max) max = m;
  }
  const center = num(ds, '00281050', NaN);
  const width = num(ds, '00281051', NaN);
  const useWindow = Number.isFinite(center) && Number.isFinite(width) && width >= 1;
  const invert = photometric === 'MONOCHROME1';
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const x = values[p];
    let y: number;
    if (useWindow) {
      if (x <= center - 0.5 - (width - 1) / 2) y = 0;
      else if (x > center - 0.5 + (width - 1) / 2) y = 255;
      else y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
    } else {
      y = max > min ? ((x - min) / (max - min)) * 255 : 0;
    }
    const g = Math.round(invert ? 255 - y : y);
    rgb[p * 3] = g;
    rgb[p * 3 + 1] = g;
    rgb[p * 3 + 2] = g;
  }
  return { width: columns, height: rows, rgb, bitsAllocated, pixelBytes, frameBytes: n * bytesPer };
}

function toArrayBuffer(v: unknown): ArrayBuffer {
  if (v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]') return v as ArrayBuffer;
  if (ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer;
  throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, 'the DICOM Pixel Data element is empty or encapsulated');
}

function truncatedPixels(have: number, need: number): AssetValidationError {
  return new AssetValidationError(AssetValidationCode.TRUNCATED, `the DICOM Pixel Data holds ${have} bytes; the first frame needs ${need}`);
}

function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 120);
}
