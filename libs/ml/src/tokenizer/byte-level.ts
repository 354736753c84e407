/**
 * GPT-2's reversible byte <-> printable-character map (bytes_to_unicode in GPT-2's encoder.py
 * and Hugging Face tokenizers' ByteLevel): printable Latin-1 bytes map to themselves, the other
 * 68 bytes to U+0100.. in byte order, so every byte sequence is a string of visible characters.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i])));
  return table;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * GPT-2's pre-tokenization pattern, with `\s` spelled as the Unicode White_Space property:
 * Hugging Face tokenizers runs it under Oniguruma, whose `\s` is White_Space (it includes
 * U+0085 and not U+FEFF), while JavaScript's `\s` is a different set.
 */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

const encoder = new TextEncoder();

/** UTF-8 bytes of text; lone surrogates (not encodable) become U+FFFD, as TextEncoder does. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bytesToChars(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

/**
 * Lone UTF-16 surrogates have no UTF-8 encoding; they become U+FFFD here, before splitting, so
 * the split sees the same text that is encoded (String.prototype.toWellFormed does the same).
 */
export function toWellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** ByteLevel pre-tokenizer: split with the GPT-2 pattern, then map each piece's UTF-8 bytes. */
export function byteLevelPreTokenize(text: string, addPrefixSpace: boolean): string[] {
  let t = toWellFormed(text);
  if (addPrefixSpace && !t.startsWith(' ')) t = ' ' + t;
  const words: string[] = [];
  for (const m of t.matchAll(GPT2_PATTERN)) words.push(bytesToChars(utf8(m[0])));
  return words;
}
