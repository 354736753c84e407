import { AssetValidationCode, AssetValidationError } from './processing.exception';

/**
 * Segments a decoder needs, copied as they are: the frame header (SOF0-15 except C4 DHT, C8 JPG
 * and CC DAC, which are listed on their own), Huffman and arithmetic-coding tables (DHT, DAC),
 * quantization tables (DQT), the number of lines (DNL) and the restart interval (DRI). SOS and its
 * entropy-coded data are copied by the walk itself.
 */
const DECODING_MARKERS = new Set([
  0xc0,
  0xc1,
  0xc2,
  0xc3,
  0xc5,
  0xc6,
  0xc7,
  0xc9,
  0xca,
  0xcb,
  0xcd,
  0xce,
  0xcf, // SOFn
  0xc4, // DHT
  0xcc, // DAC
  0xdb, // DQT
  0xdc, // DNL
  0xdd, // DRI
]);
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;
const SOS = 0xda;
const EOI = 0xd9;
const SOI = 0xd8;

export interface StrippedJpeg {
  bytes: Buffer;
  /** Marker segments left out (APPn, COM and any other segment no decoder needs). */
  removed: number;
  /** The JFIF or Adobe header was rewritten to its fixed fields (JFIF thumbnail, Adobe extra bytes dropped). */
  rewritten: number;
}

export interface JpegLayout {
  /** Components of the frame (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  components: number;
  /** Sample precision in bits (8, or 12 for extended JPEGs). */
  precision: number;
  /** Whether an APP2 ICC_PROFILE segment is present. */
  iccProfile: boolean;
}

const malformed = (message: string) => new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the JPEG ${message}`);
const truncated = (message: string) => new AssetValidationError(AssetValidationCode.TRUNCATED, `the JPEG ${message}`);

function isIccProfile(b: Buffer, payload: number, end: number): boolean {
  return end - payload >= 12 && b.toString('latin1', payload, payload + 12) === 'ICC_PROFILE\0';
}

/**
 * Walks a JPEG's marker segments and scans, calling `segment` for every marker segment outside
 * the entropy-coded data, and `scan` with the span of each SOS segment plus its entropy-coded
 * data (restart markers and stuffed bytes included). Every step moves forward by at least one
 * byte and every length is checked against the buffer, so malformed input ends in an
 * AssetValidationError, never an exception from a read past the end or a loop that does not end.
 * The walk ends at the first EOI; the caller cuts trailing data before (imageDataEnd).
 */
function walkJpeg(
  b: Buffer,
  segment: (marker: number, start: number, payload: number, end: number) => void,
  scan: (start: number, end: number) => void,
): number {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== SOI) throw malformed('does not start with a start-of-image marker');
  let i = 2;
  while (i < b.length) {
    if (b[i] !== 0xff) throw malformed(`has a malformed marker at offset ${i}`);
    let m = i + 1;
    while (m < b.length && b[m] === 0xff) m++; // fill bytes
    if (m >= b.length) break;
    const marker = b[m];
    const start = m - 1;
    if (marker === EOI) return m + 1;
    if (marker === SOI) throw malformed(`has a second start-of-image marker at offset ${start}`);
    if (marker === 0x00) throw malformed(`has a malformed marker at offset ${start}`);
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      // TEM or a restart marker outside a scan: no data, nothing a decoder needs.
      segment(marker, start, m + 1, m + 1);
      i = m + 1;
      continue;
    }
    if (m + 3 > b.length) break;
    const length = b.readUInt16BE(m + 1);
    if (length < 2) throw malformed(`has a segment of invalid length ${length} at offset ${start}`);
    const end = m + 1 + length;
    if (end > b.length) throw truncated(`ends inside a segment at offset ${start} (${end - b.length} bytes missing)`);
    if (marker !== SOS) {
      segment(marker, start, m + 3, end);
      i = end;
      continue;
    }
    const components = b[m + 3];
    if (length !== 6 + 2 * components || components < 1 || components > 4) {
      throw malformed(`has a scan header of invalid length at offset ${start}`);
    }
    // Entropy-coded data runs to the next marker that is neither a stuffed 0x00 nor RSTn.
    let j = end;
    while (j < b.length) {
      if (b[j] !== 0xff) {
        j++;
        continue;
      }
      let k = j + 1;
      while (k < b.length && b[k] === 0xff) k++;
      if (k >= b.length) {
        j = b.length;
        break;
      }
      if (b[k] === 0x00 || (b[k] >= 0xd0 && b[k] <= 0xd7)) {
        j = k + 1;
        continue;
      }
      break;
    }
    scan(start, j);
    i = j;
  }
  throw truncated('has no end-of-image marker (the file was cut short)');
}

/** Frame layout and colour profile, from the marker segments alone (no entropy-coded data is decoded). */
export function jpegLayout(jpeg: Buffer): JpegLayout {
  const found: { frame?: { components: number; precision: number }; iccProfile: boolean } = { iccProfile: false };
  walkJpeg(
    jpeg,
    (marker, _start, payload, end) => {
      if (SOF.has(marker) && !found.frame) {
        if (end - payload < 6) throw malformed('has a frame header too short to describe a frame');
        found.frame = { precision: jpeg[payload], components: jpeg[payload + 5] };
      }
      if (marker === APP2 && isIccProfile(jpeg, payload, end)) found.iccProfile = true;
    },
    () => undefined,
  );
  if (!found.frame) throw malformed('has no frame header (no SOF marker)');
  return { ...found.frame, iccProfile: found.iccProfile };
}

/**
 * Whether a JPEG, stripped of its metadata, is a curated form: an 8-bit, three-component image
 * (YCbCr, or RGB with an Adobe marker), which every decoder reads as RGB, and with no embedded
 * ICC profile. A profile is not kept (like the PNG's iCCP: its description and copyright tags
 * are free text, and private tags can hold anything), but without it a non-sRGB image would
 * show other colours; so such a JPEG is curated as before, converted to sRGB and re-encoded as
 * PNG. Grey, CMYK/YCCK and 12-bit JPEGs are re-encoded too, to RGB.
 */
export function jpegIsCuratedForm(jpeg: Buffer): boolean {
  const layout = jpegLayout(jpeg);
  return layout.components === 3 && layout.precision === 8 && !layout.iccProfile;
}

/**
 * The JPEG without its metadata, the entropy-coded data copied byte for byte, so a decoder
 * produces exactly the same pixels. Kept: SOI, the frame header, DQT, DHT, DAC, DRI, DNL, every
 * SOS with its entropy-coded data (restart markers included), EOI; and, rewritten to their
 * fixed fields only, the two headers that tell decoders the colour transform: JFIF (APP0,
 * without its thumbnail, a second image nobody decoded) and Adobe (APP14). Left out: every other
 * APPn (EXIF with its GPS position, camera serial and names, XMP, IPTC, ICC profile, vendor
 * data), COM, and anything else no decoder needs. Input after the first EOI is not read (cut it
 * with imageDataEnd first). Malformed structure (a segment length that runs past the end or
 * below 2, a byte where a marker must be, no EOI) is refused with an AssetValidationError.
 */
export function stripJpegMetadata(jpeg: Buffer): StrippedJpeg {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let removed = 0;
  let rewritten = 0;
  let frames = 0;
  let scans = 0;
  const end = walkJpeg(
    jpeg,
    (marker, start, payload, segEnd) => {
      if (DECODING_MARKERS.has(marker)) {
        if (SOF.has(marker)) frames++;
        parts.push(jpeg.subarray(start, segEnd));
        return;
      }
      const header = marker === APP0 ? jfifHeader(jpeg, payload, segEnd) : marker === APP14 ? adobeHeader(jpeg, payload, segEnd) : null;
      if (header) {
        parts.push(header);
        if (!header.equals(jpeg.subarray(start, segEnd))) rewritten++;
        return;
      }
      removed++;
    },
    (start, scanEnd) => {
      if (frames === 0) throw malformed(`has a scan before its frame header at offset ${start}`);
      scans++;
      parts.push(jpeg.subarray(start, scanEnd));
    },
  );
  if (frames === 0) throw malformed('has no frame header (no SOF marker)');
  if (scans === 0) throw malformed('has no scan (no SOS marker)');
  parts.push(jpeg.subarray(end - 2, end));
  return { bytes: Buffer.concat(parts), removed, rewritten };
}

/** JFIF APP0 with its fixed fields only (version, density units, x and y density) and no thumbnail. */
function jfifHeader(b: Buffer, payload: number, end: number): Buffer | null {
  if (end - payload < 14 || b.toString('latin1', payload, payload + 5) !== 'JFIF\0') return null;
  const out = Buffer.alloc(18);
  out.writeUInt16BE(0xffe0, 0);
  out.writeUInt16BE(16, 2);
  b.copy(out, 4, payload, payload + 12);
  // Thumbnail width and height 0: the thumbnail's pixels are not carried.
  return out;
}

/** Adobe APP14: 'Adobe', version, flags0, flags1 and the colour transform (12 bytes), nothing after. */
function adobeHeader(b: Buffer, payload: number, end: number): Buffer | null {
  if (end - payload < 12 || b.toString('latin1', payload, payload + 5) !== 'Adobe') return null;
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xffee, 0);
  out.writeUInt16BE(14, 2);
  b.copy(out, 4, payload, payload + 12);
  return out;
}
