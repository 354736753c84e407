import { AssetValidationCode, AssetValidationError } from './processing.exception';
import { detectMimeType, SniffedMimeType } from './sniff';
import { readDicomDimensions } from './dicom-deidentify';

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export interface ImageProbe {
  mimeType: SniffedMimeType;
  width: number;
  height: number;
}

const IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'application/dicom'];

/**
 * Checks an image upload from its header alone, before any decoder allocates: size, declared
 * type against the magic number, and width x height against the pixel limit. A decompression
 * bomb (a few KB of PNG declaring 50,000 x 50,000) fails here without a pixel buffer.
 */
export function probeImage(bytes: Uint8Array, declaredMimeType: string, limits: ImageLimits): ImageProbe {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!IMAGE_TYPES.includes(declaredMimeType)) {
    throw new AssetValidationError(AssetValidationCode.UNSUPPORTED_TYPE, `the declared type is not an image type (${IMAGE_TYPES.join(', ')})`);
  }
  if (b.length === 0) throw new AssetValidationError(AssetValidationCode.EMPTY_FILE, 'the file is empty');
  if (b.length > limits.maxBytes)
    throw new AssetValidationError(AssetValidationCode.TOO_LARGE, `the file is ${b.length} bytes; the limit is ${limits.maxBytes}`);
  const detected = detectMimeType(b);
  if (detected !== declaredMimeType) {
    throw new AssetValidationError(
      AssetValidationCode.WRONG_MAGIC,
      `declared ${declaredMimeType} but the bytes are ${detected ?? 'not a recognised image format'}`,
    );
  }
  const { width, height } = detected === 'image/png' ? pngDimensions(b) : detected === 'image/jpeg' ? jpegDimensions(b) : readDicomDimensions(b);
  if (width <= 0 || height <= 0) throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the header declares an empty image (${width}x${height})`);
  if (width * height > limits.maxPixels) {
    throw new AssetValidationError(AssetValidationCode.TOO_MANY_PIXELS, `the header declares ${width}x${height} pixels; the limit is ${limits.maxPixels}`);
  }
  return { mimeType: detected, width, height };
}

/** PNG: the first chunk must be IHDR (13 bytes: width, height, ...). */
function pngDimensions(b: Buffer): { width: number; height: number } {
  if (b.length < 8 + 8 + 13) throw new AssetValidationError(AssetValidationCode.TRUNCATED, 'the PNG ends before its IHDR header');
  if (b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') {
    throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, 'the PNG does not start with an IHDR chunk');
  }
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

// Start-of-frame markers carry the dimensions: SOF0-3, 5-7, 9-11, 13-15 (C4 DHT, C8 JPG, CC DAC are not frames).
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** JPEG: walk the marker segments up to the first SOFn (no entropy-coded data is read). */
function jpegDimensions(b: Buffer): { width: number; height: number } {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the JPEG has a malformed marker at offset ${i}`);
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI or start of scan before any frame header
    const length = b.readUInt16BE(i + 2);
    if (length < 2) throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the JPEG has a segment of invalid length at offset ${i}`);
    if (SOF_MARKERS.has(marker)) {
      if (i + 9 > b.length) break;
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  throw new AssetValidationError(AssetValidationCode.TRUNCATED, 'the JPEG ends before its frame header (no SOF marker)');
}
