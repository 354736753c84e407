export type SniffedMimeType = 'image/png' | 'image/jpeg' | 'application/dicom';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The type the bytes say they are (magic numbers), whatever the upload declared. */
export function detectMimeType(bytes: Uint8Array): SniffedMimeType | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  // SOI followed by the first marker's 0xFF.
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  // DICOM Part 10: a 128-byte preamble (any content), then 'DICM'.
  if (b.length >= 132 && b.toString('latin1', 128, 132) === 'DICM') return 'application/dicom';
  return null;
}
