/**
 * A minimal POSIX ustar writer, enough for an export bundle of regular files with short names
 * (no dependency needed for it). Every entry is a 512-byte header, the data, and zero padding to
 * the next 512 bytes; two zero blocks end the archive.
 */
const BLOCK = 512;

/** The largest size the 11 octal digits of a ustar header can hold (8 GiB - 1). */
const MAX_SIZE = 0o77777777777;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'ascii');
}

/** An octal number, zero-padded, NUL-terminated, filling `length` bytes. */
const octal = (n: number, length: number) => `${n.toString(8).padStart(length - 1, '0')}\0`;

export function ustarHeader(name: string, size: number, mtime: Date): Buffer {
  if (Buffer.byteLength(name) > 100 || !/^[\x21-\x7e]+$/.test(name)) throw new Error(`tar entry name must be printable ASCII of at most 100 bytes: ${name}`);
  if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE) throw new Error(`tar entry ${name} is too large for ustar (${size} bytes)`);
  const header = Buffer.alloc(BLOCK, 0);
  field(header, 0, 100, name);
  field(header, 100, 8, octal(0o644, 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  field(header, 124, 12, octal(size, 12));
  field(header, 136, 12, octal(Math.floor(mtime.getTime() / 1000), 12));
  field(header, 148, 8, '        '); // the checksum counts its own field as spaces
  field(header, 156, 1, '0');
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  let sum = 0;
  for (const b of header) sum += b;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

export const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);

/** One file of the archive: header, data, padding. */
export function ustarEntry(name: string, data: Buffer, mtime: Date): Buffer[] {
  return [ustarHeader(name, data.length, mtime), data, padding(data.length)];
}

export const ustarEnd = () => Buffer.alloc(2 * BLOCK, 0);
