/** Test fixtures for crafting JPEG marker segments byte by byte (metadata planted, damaged files). */

/** One marker segment: FF, the marker, the length (payload + 2) and the payload. */
export function jpegSegment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** The JPEG with the given segments inserted right after SOI (where writers put APPn segments). */
export function withSegmentsAfterSoi(jpeg: Buffer, ...segments: Buffer[]): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** The JPEG with the given segments inserted right before its first SOS (after the tables). */
export function withSegmentsBeforeScan(jpeg: Buffer, ...segments: Buffer[]): Buffer {
  const sos = jpegMarkers(jpeg).find((m) => m.marker === 0xda)!.offset;
  return Buffer.concat([jpeg.subarray(0, sos), ...segments, jpeg.subarray(sos)]);
}

/** Markers outside the entropy-coded data, in file order, with their offsets (the test's own walk). */
export function jpegMarkers(jpeg: Buffer): { marker: number; offset: number }[] {
  const out: { marker: number; offset: number }[] = [{ marker: 0xd8, offset: 0 }];
  let i = 2;
  while (i + 1 < jpeg.length) {
    const marker = jpeg[i + 1];
    out.push({ marker, offset: i });
    if (marker === 0xd9) break;
    i += 2 + jpeg.readUInt16BE(i + 2);
    if (marker === 0xda) {
      while (i + 1 < jpeg.length && !(jpeg[i] === 0xff && jpeg[i + 1] !== 0 && (jpeg[i + 1] < 0xd0 || jpeg[i + 1] > 0xd7))) i++;
    }
  }
  return out;
}

interface IfdEntry {
  tag: number;
  type: 2 | 4 | 5; // ASCII, LONG, RATIONAL
  count: number;
  /** Four bytes, or the value stored after the IFDs (offset patched in). */
  value: Buffer;
}

/**
 * An APP1 EXIF payload (big-endian TIFF) with IFD0 Artist = `artist` and a GPS IFD holding
 * latitude and longitude (degrees, minutes, seconds as rationals), as a phone writes them.
 */
export function exifWithArtistAndGps(artist: string, lat: [number, number, number], lon: [number, number, number]): Buffer {
  const rationals = (v: number[]) => {
    const b = Buffer.alloc(v.length * 8);
    v.forEach((x, k) => {
      b.writeUInt32BE(x, k * 8);
      b.writeUInt32BE(1, k * 8 + 4);
    });
    return b;
  };
  const ascii = (s: string) => Buffer.from(`${s}\0`, 'latin1');
  const ifd0: IfdEntry[] = [
    { tag: 0x013b, type: 2, count: artist.length + 1, value: ascii(artist) },
    { tag: 0x8825, type: 4, count: 1, value: Buffer.alloc(4) }, // GPS IFD pointer, patched below
  ];
  const gps: IfdEntry[] = [
    { tag: 0x0001, type: 2, count: 2, value: Buffer.from('N\0\0\0', 'latin1') },
    { tag: 0x0002, type: 5, count: 3, value: rationals(lat) },
    { tag: 0x0003, type: 2, count: 2, value: Buffer.from('E\0\0\0', 'latin1') },
    { tag: 0x0004, type: 5, count: 3, value: rationals(lon) },
  ];
  const ifdSize = (n: number) => 2 + n * 12 + 4;
  const ifd0At = 8;
  const gpsAt = ifd0At + ifdSize(ifd0.length);
  let dataAt = gpsAt + ifdSize(gps.length);
  const data: Buffer[] = [];
  const write = (entries: IfdEntry[]) => {
    const b = Buffer.alloc(ifdSize(entries.length));
    b.writeUInt16BE(entries.length, 0);
    entries.forEach((e, k) => {
      const o = 2 + k * 12;
      b.writeUInt16BE(e.tag, o);
      b.writeUInt16BE(e.type, o + 2);
      b.writeUInt32BE(e.count, o + 4);
      if (e.tag === 0x8825) b.writeUInt32BE(gpsAt, o + 8);
      else if (e.value.length <= 4) e.value.copy(b, o + 8);
      else {
        b.writeUInt32BE(dataAt, o + 8);
        data.push(e.value);
        dataAt += e.value.length;
      }
    });
    return b;
  };
  const tiffHeader = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, ifd0At]);
  const tiff = Buffer.concat([tiffHeader, write(ifd0), write(gps), ...data]);
  return jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]));
}

/** A JFIF APP0 carrying a thumbnail (w x h RGB pixels of the given value). */
export function jfifWithThumbnail(w: number, h: number, value: number): Buffer {
  const fixed = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x02, 0x01, 0x00, 0x48, 0x00, 0x48, w, h]);
  return jpegSegment(0xe0, Buffer.concat([fixed, Buffer.alloc(w * h * 3, value)]));
}
