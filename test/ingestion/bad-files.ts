/** Crafted files for the validation tests: each is wrong in exactly one way. */
import { pngDeclaring as pngDeclaringIdat } from '../../services/ingestion/src/assets/processing/testing/png-chunks';

/** A decompression bomb's header: a valid PNG signature and IHDR declaring width x height, a tiny IDAT. */
export function pngDeclaring(width: number, height: number): Buffer {
  return pngDeclaringIdat(width, height, Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
}

/** "Report" text with bytes that are not UTF-8 (a Latin-1 é and a lone continuation byte). */
export const NOT_UTF8_REPORT = Buffer.concat([
  Buffer.from('FINDINGS: opacit', 'ascii'),
  Buffer.from([0xe9, 0x20, 0x80]),
  Buffer.from(' in the upper left zone.\n', 'ascii'),
]);
