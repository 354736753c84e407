import { createHash } from 'node:crypto';
import type { AssetKind, DeidentificationRecord } from '@trellis/contracts';
import { MAX_REPORT_CHARS, redactReport } from '@trellis/deidentify';
import {
  AssetValidationError,
  defaultImageCodec,
  deidentifyDicom,
  detectMimeType,
  extractReportText,
  ImageCodec,
  imageDataEnd,
  jpegIsCuratedForm,
  pngIsCuratedForm,
  probeImage,
  resizeForModel,
  stripJpegMetadata,
  stripPngChunks,
} from './processing';

/** The types an asset may be declared as, and the kind each one is. */
export const ASSET_MIME_TYPES: Record<string, AssetKind> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'application/dicom': 'image',
  'text/plain': 'report',
  'application/fhir+json': 'report',
};

export const MODEL_INPUT_SIZE = 224;

export interface ProcessingLimits {
  maxBytes: number;
  maxPixels: number;
  dicomUidKey: string;
}

export interface ProcessedAsset {
  kind: AssetKind;
  mimeType: string;
  width: number | null;
  height: number | null;
  /**
   * The de-identified/normalized form training reads: for images a JPEG stripped of its metadata
   * (same entropy-coded data) or a PNG, for reports redacted UTF-8 text. contentType says which
   * (AssetIngested records it as storage.curatedMediaType).
   */
  curated: { bytes: Buffer; contentType: string };
  /** Images: the 224x224 PNG the model's preprocessing expects. */
  derivative: Buffer | null;
  /** DICOM: the de-identified DICOM itself, kept beside its rendering. */
  deidentifiedDicom: Buffer | null;
  deidentification: DeidentificationRecord;
  /** Images: milliseconds spent decoding, making the 224x224 derivative and the curated form (bench:ingestion prints them). */
  stageMs?: { decode: number; derivative: number; curate: number };
}

export const sha256Hex = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Who an upload belongs to: the pseudonym DICOM de-identification writes, and the subject's own
 * identifiers that report redaction removes wherever they occur (names; the birth date,
 * YYYY-MM-DD; MRN and external reference).
 */
export interface ProcessingSubject {
  pseudonym: string;
  knownNames: string[];
  knownDates?: string[];
  knownIdentifiers?: string[];
}

/**
 * Runs the validation, decoding, de-identification and redaction functions of processing/ on one
 * upload. Throws AssetValidationError with a reason code for anything it refuses; never logs or
 * returns the content it refused. `codec` does the image decoding and PNG encoding (native
 * sharp when it loads, pure JS otherwise); validation, de-identification and the model's resize
 * are the same functions on either.
 */
export async function processAsset(
  bytes: Buffer,
  declaredMimeType: string,
  limits: ProcessingLimits,
  subject: ProcessingSubject,
  codec: ImageCodec = defaultImageCodec(),
): Promise<ProcessedAsset> {
  const kind = ASSET_MIME_TYPES[declaredMimeType];
  if (!kind) {
    throw new AssetValidationError('UNSUPPORTED_TYPE', `the declared type is not one of ${Object.keys(ASSET_MIME_TYPES).join(', ')}`);
  }
  if (bytes.length === 0) throw new AssetValidationError('EMPTY_FILE', 'the file is empty');
  if (bytes.length > limits.maxBytes) throw new AssetValidationError('TOO_LARGE', `the file is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);

  if (declaredMimeType === 'application/dicom') {
    const detected = detectMimeType(bytes);
    if (detected !== 'application/dicom') {
      throw new AssetValidationError('WRONG_MAGIC', `declared application/dicom but the bytes are ${detected ?? 'not a known type'} (no DICM preamble)`);
    }
    // The limit goes in: the header is checked before any pixel is rendered.
    const d = deidentifyDicom(bytes, { uidKey: limits.dicomUidKey, pseudonym: subject.pseudonym, maxPixels: limits.maxPixels });
    if (d.width * d.height > limits.maxPixels) {
      throw new AssetValidationError('TOO_MANY_PIXELS', `the image is ${d.width}x${d.height}; the limit is ${limits.maxPixels} pixels`);
    }
    const [curated, derivative] = await Promise.all([
      codec.encodePng(d.rgb, d.width, d.height),
      codec.encodePng(resizeForModel(d.rgb, d.width, d.height, MODEL_INPUT_SIZE), MODEL_INPUT_SIZE, MODEL_INPUT_SIZE),
    ]);
    return {
      kind,
      mimeType: declaredMimeType,
      width: d.width,
      height: d.height,
      curated: { bytes: curated, contentType: 'image/png' },
      derivative,
      deidentifiedDicom: Buffer.from(d.dicom),
      deidentification: d.record,
    };
  }

  if (kind === 'image') {
    // The header is checked against the limits before anything is decoded (decompression bombs).
    const probe = probeImage(bytes, declaredMimeType, { maxBytes: limits.maxBytes, maxPixels: limits.maxPixels });
    // Only the image's own bytes go on: whatever follows its end marker (appended text, say)
    // never reaches the decoder or the curated area, and the record counts it.
    const end = imageDataEnd(bytes, probe.mimeType);
    const trailing = bytes.length - end;
    const own = trailing > 0 ? bytes.subarray(0, end) : bytes;
    const trailingRecord = (r: DeidentificationRecord): DeidentificationRecord =>
      trailing > 0 ? { ...r, options: [...r.options, 'trailing-data-removed'], summary: { ...r.summary, 'trailing-bytes-removed': trailing } } : r;
    const t0 = performance.now();
    const image = await codec.decode(own, probe.mimeType, limits.maxPixels);
    const t1 = performance.now();
    const derivativePixels = resizeForModel(image.rgb, image.width, image.height, MODEL_INPUT_SIZE);
    const derivative = await codec.encodePng(derivativePixels, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE);
    const t2 = performance.now();
    const stageMs = (t3: number) => ({ decode: t1 - t0, derivative: t2 - t1, curate: t3 - t2 });
    // A JPEG that decoded (above: the whole scan, to EOI) stays a JPEG: its metadata segments go,
    // its entropy-coded data is copied as it is, so the pixels are exactly the decoded ones and no
    // second lossy encoding happens. (Grey, CMYK, 12-bit and ICC-tagged JPEGs are re-encoded below.)
    if (probe.mimeType === 'image/jpeg' && jpegIsCuratedForm(own)) {
      const stripped = stripJpegMetadata(own);
      return {
        kind,
        mimeType: probe.mimeType,
        width: image.width,
        height: image.height,
        curated: { bytes: stripped.bytes, contentType: 'image/jpeg' },
        derivative,
        deidentifiedDicom: null,
        deidentification: trailingRecord({
          method: 'none',
          options: ['metadata-segments-removed'],
          summary: { 'jpeg-segments-removed': stripped.removed, 'jpeg-headers-rewritten': stripped.rewritten },
        }),
        stageMs: stageMs(performance.now()),
      };
    }
    // An 8-bit RGB PNG is its own curated form once its metadata chunks are gone (lossless, the
    // same pixels re-encoding would store; decode has checked its chunk structure and CRCs);
    // anything else is re-encoded, which keeps no metadata.
    if (probe.mimeType === 'image/png' && pngIsCuratedForm(own)) {
      const stripped = stripPngChunks(own);
      return {
        kind,
        mimeType: probe.mimeType,
        width: image.width,
        height: image.height,
        curated: { bytes: stripped.bytes, contentType: 'image/png' },
        derivative,
        deidentifiedDicom: null,
        deidentification: trailingRecord({ method: 'none', options: ['metadata-chunks-removed'], summary: { 'png-chunks-removed': stripped.removed } }),
        stageMs: stageMs(performance.now()),
      };
    }
    const curated = await codec.encodePng(image.rgb, image.width, image.height);
    return {
      kind,
      mimeType: probe.mimeType,
      width: image.width,
      height: image.height,
      // Re-encoding drops every ancillary chunk and EXIF/comment segment a file may carry.
      curated: { bytes: curated, contentType: 'image/png' },
      derivative,
      deidentifiedDicom: null,
      deidentification: trailingRecord({ method: 'none', options: ['re-encoded-without-metadata'], summary: {} }),
      stageMs: stageMs(performance.now()),
    };
  }

  const text = extractReportText(bytes, declaredMimeType as 'text/plain' | 'application/fhir+json');
  if (text.length > MAX_REPORT_CHARS) {
    throw new AssetValidationError('TOO_LARGE', `the report's text has ${text.length} characters; the limit is ${MAX_REPORT_CHARS}`);
  }
  const redacted = redactReport(text, {
    knownNames: subject.knownNames,
    knownDates: subject.knownDates ?? [],
    knownIdentifiers: subject.knownIdentifiers ?? [],
  });
  return {
    kind,
    mimeType: declaredMimeType,
    width: null,
    height: null,
    curated: { bytes: Buffer.from(redacted.text, 'utf8'), contentType: 'text/plain; charset=utf-8' },
    derivative: null,
    deidentifiedDicom: null,
    deidentification: { method: 'hipaa-safe-harbor', options: [], summary: redacted.summary },
  };
}
