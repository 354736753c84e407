/**
 * Where an image's own bytes end: after the PNG's IEND chunk, after the JPEG's end-of-image
 * marker. Anything after it (text appended to a file, a second file, a zip) is not image data,
 * is never decoded and could be anything, a name or a report included: the curated form must
 * not carry it. Returns bytes.length when no end is found (the decoder's truncation checks
 * then refuse the file).
 */
export function imageDataEnd(bytes: Uint8Array, mimeType: string): number {
  if (mimeType === 'image/png') return pngEnd(bytes) ?? bytes.length;
  if (mimeType === 'image/jpeg') return jpegEnd(bytes) ?? bytes.length;
  return bytes.length;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
}

function pngEnd(b: Uint8Array): number | undefined {
  for (let i = 8; i + 12 <= b.length;) {
    const length = u32(b, i);
    const end = i + 12 + length;
    if (end > b.length) return undefined;
    if (b[i + 4] === 0x49 && b[i + 5] === 0x45 && b[i + 6] === 0x4e && b[i + 7] === 0x44) return end; // IEND
    i = end;
  }
  return undefined;
}

/**
 * Walks the marker segments (their lengths skip embedded thumbnails and their own EOI), and
 * through entropy-coded data, where 0xFF is followed by a stuffed 0x00 or a restart marker,
 * to the first EOI (0xFFD9).
 */
function jpegEnd(b: Uint8Array): number | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  let inScan = false;
  while (i < b.length) {
    if (b[i] !== 0xff) {
      if (!inScan) return undefined;
      i++;
      continue;
    }
    let m = i + 1;
    while (m < b.length && b[m] === 0xff) m++; // fill bytes
    if (m >= b.length) return undefined;
    const marker = b[m];
    if (marker === 0xd9) return m + 1;
    if (inScan && (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7))) {
      i = m + 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i = m + 1; // standalone markers
      continue;
    }
    if (m + 2 >= b.length) return undefined;
    const length = (b[m + 1] << 8) + b[m + 2];
    if (length < 2) return undefined;
    i = m + 1 + length;
    inScan = marker === 0xda; // after SOS comes entropy-coded data
  }
  return undefined;
}
