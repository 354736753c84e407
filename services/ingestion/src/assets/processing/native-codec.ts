import type SharpModule from 'sharp';
import { checkJpegEnd, checkPngChunks, DecodedImage, decodeImage, encodePng, rgbaToRgb } from './image-codec';
import { AssetValidationCode, AssetValidationError } from './processing.exception';

type Sharp = typeof SharpModule;

/**
 * How images are decoded and PNGs encoded. Both paths run the same byte-level checks first
 * (probeImage before, checkPngChunks / checkJpegEnd inside decode) and produce the same kind of
 * result: 8-bit RGB, alpha composited onto black, and truecolour PNGs with no ancillary chunks.
 * Resizing (resizeForModel) is ours on both paths, so the model input is computed the same way.
 */
export interface ImageCodec {
  readonly name: 'native' | 'pure-js';
  decode(bytes: Buffer, mimeType: string, maxPixels: number): Promise<DecodedImage>;
  encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer>;
}

/** jpeg-js and pngjs: slow (tens of ms per 512x512 image) but runs everywhere. */
export const pureJsCodec: ImageCodec = {
  name: 'pure-js',
  async decode(bytes, mimeType) {
    return decodeImage(bytes, mimeType);
  },
  async encodePng(rgb, width, height) {
    return encodePng(rgb, width, height);
  },
};

/**
 * zlib level for the PNGs sharp writes. Level 1 without adaptive filtering writes a 512x512
 * curated image in about a fifth of the time of level 6 and still smaller than pngjs' output
 * (level 9, adaptive filters) at a tenth of its time; the curated area trades a little space
 * for ingest throughput. The pixels are the same at every level.
 */
const PNG_COMPRESSION_LEVEL = 1;

let loaded: { sharp: Sharp | null; reason: string } | undefined;

/**
 * sharp (libvips), loaded on first use. It is an npm dependency whose prebuilt binaries are
 * optional per-platform packages; where none fits, this returns null and ingestion keeps the
 * pure-JS codec. INGESTION_IMAGE_CODEC=js chooses the pure-JS codec on purpose.
 */
export function loadSharp(env: NodeJS.ProcessEnv = process.env): Sharp | null {
  if (env.INGESTION_IMAGE_CODEC === 'js') return null;
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native codec: a failed load falls back to the JS codecs
      const sharp = require('sharp') as Sharp;
      // One-shot images: libvips' operation cache would only hold memory.
      sharp.cache(false);
      loaded = { sharp, reason: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}` };
    } catch (err) {
      // The loader's message names the missing platform package; no file content is involved.
      loaded = { sharp: null, reason: `sharp unavailable: ${(err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 160)}` };
    }
  }
  return loaded.sharp;
}

/** Which codec ingestion uses in this process, for the start-up log line. */
export function imageCodecInfo(env: NodeJS.ProcessEnv = process.env): { codec: ImageCodec['name']; detail: string } {
  const sharp = loadSharp(env);
  if (sharp) return { codec: 'native', detail: loaded!.reason };
  return { codec: 'pure-js', detail: `jpeg-js + pngjs; ${env.INGESTION_IMAGE_CODEC === 'js' ? 'INGESTION_IMAGE_CODEC=js' : loaded!.reason}` };
}

/** The native codec when sharp loads, the pure-JS one otherwise. */
export function defaultImageCodec(env: NodeJS.ProcessEnv = process.env): ImageCodec {
  const sharp = loadSharp(env);
  if (!sharp) return pureJsCodec;
  native ??= nativeCodec(sharp);
  return native;
}

let native: ImageCodec | undefined;

/**
 * sharp for the pixel work, behind our checks. libjpeg and libspng accept files our checks
 * refuse (a JPEG without EOI decodes grey-padded), so the structural checks run first and stay
 * authoritative; and whatever sharp refuses is handed to the pure-JS decoder, so a bad file is
 * refused with the same reason code on both paths (or accepted, if only libvips' stricter
 * warnings objected). Colour: sharp converts to sRGB (an embedded ICC profile is applied;
 * jpeg-js ignores it), 16-bit samples are reduced to 8, grey is replicated, alpha is
 * composited onto black by our own function, exactly as on the pure-JS path.
 */
export function nativeCodec(sharp: Sharp): ImageCodec {
  return {
    name: 'native',
    async decode(bytes, mimeType, maxPixels) {
      if (bytes.length === 0) throw new AssetValidationError(AssetValidationCode.EMPTY_FILE, 'the file is empty');
      if (mimeType === 'image/png') checkPngChunks(bytes);
      else if (mimeType === 'image/jpeg') checkJpegEnd(bytes);
      else return decodeImage(bytes, mimeType); // refuses it with the pure-JS path's reason
      let out: { data: Buffer; info: SharpModule.OutputInfo };
      try {
        out = await sharp(bytes, { failOn: 'warning', limitInputPixels: Math.max(1, maxPixels) })
          .toColourspace('srgb')
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true });
      } catch {
        return decodeImage(bytes, mimeType);
      }
      const { width, height, channels } = out.info;
      if (channels !== 3 && channels !== 4) return decodeImage(bytes, mimeType);
      const rgb = channels === 3 ? new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength) : rgbaToRgb(out.data, width, height);
      return { width, height, rgb };
    },
    async encodePng(rgb, width, height) {
      if (rgb.length !== width * height * 3) throw new RangeError(`rgb must hold ${width * height * 3} bytes for ${width}x${height}, got ${rgb.length}`);
      const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
        .png({ compressionLevel: PNG_COMPRESSION_LEVEL, adaptiveFiltering: false, palette: false })
        .toBuffer();
      // sharp writes no metadata unless asked; dropping every ancillary chunk makes it certain.
      return stripPngChunks(png, () => false).bytes;
    },
  };
}

// PNG chunks kept when a PNG's metadata is stripped: the critical ones and those that only say
// how to render the pixels. Everything else goes: tEXt/zTXt/iTXt (free text: names, dates),
// tIME, eXIf, iCCP (its name and profile tags are free text), and private or unknown chunks.
const PNG_RENDERING_CHUNKS = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'sBIT', 'pHYs']);

/**
 * The PNG without its ancillary chunks, except those `keep` accepts. The input must already
 * have passed checkPngChunks (whole chunks, valid CRCs, IEND last); chunks are copied as they
 * are, CRCs included, so the pixels are bit-identical.
 */
export function stripPngChunks(png: Buffer, keep: (type: string) => boolean = (t) => PNG_RENDERING_CHUNKS.has(t)): { bytes: Buffer; removed: number } {
  const parts: Buffer[] = [png.subarray(0, 8)];
  let removed = 0;
  for (let i = 8; i + 12 <= png.length;) {
    const length = png.readUInt32BE(i);
    const type = png.toString('latin1', i + 4, i + 8);
    const end = i + 12 + length;
    const critical = (png[i + 4] & 0x20) === 0;
    if (critical || keep(type)) parts.push(png.subarray(i, end));
    else removed++;
    if (type === 'IEND') break;
    i = end;
  }
  return { bytes: removed === 0 ? png : Buffer.concat(parts), removed };
}

/**
 * Whether the PNG, stripped of metadata, is already the curated form: 8-bit truecolour without
 * alpha or transparency, so its pixels are exactly what re-encoding the decoded image would
 * store. (Grey, palette, 16-bit and alpha PNGs are normalized by re-encoding instead.)
 */
export function pngIsCuratedForm(png: Buffer): boolean {
  const bitDepth = png[24];
  const colourType = png[25];
  return bitDepth === 8 && colourType === 2 && !hasChunk(png, 'tRNS');
}

function hasChunk(png: Buffer, wanted: string): boolean {
  for (let i = 8; i + 12 <= png.length;) {
    const length = png.readUInt32BE(i);
    const type = png.toString('latin1', i + 4, i + 8);
    if (type === wanted) return true;
    if (type === 'IEND' || type === 'IDAT') return false; // tRNS must precede IDAT
    i += 12 + length;
  }
  return false;
}
