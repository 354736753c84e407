import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYTE_TO_CHAR, byteLevelPreTokenize } from './byte-level';
import { ByteLevelBpeTokenizer } from './byte-level-bpe.tokenizer';
import { TokenizerErrorCode, TokenizerException } from './tokenizer.exception';

// Reference data comes from the Hugging Face `tokenizers` library (0.23.3), produced by
// fixtures/make-hf-reference.py (run in a throwaway venv: pip install tokenizers). It trains
// a ByteLevel BPE on CORPUS (the same list as below), saves fixtures/hf-bytelevel-bpe.tokenizer.json
// and prints the ids HF's encoder gives for each text of HF_ENCODINGS.
const FIXTURE = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'hf-bytelevel-bpe.tokenizer.json'), 'utf8'));

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  "the lazy dog sleeps; the quick fox doesn't, it's running!",
  'A chest X-ray shows a small round opacity in the left lower lobe.',
  'No acute findings. Heart size is normal. Lungs are clear.',
  'Numbers: 12345 and 3.14159, dates 2024-01-31.',
  "Émile a vu l'éléphant — très grand — à Zürich.",
  '日本語のテキストと中文文本。',
  'emoji 🙂🙂 and flags 🇩🇪 and families 👨‍👩‍👧',
  'tabs\tand\nnewlines\r\n and    spaces   ',
  "what's up? we'll see, they've gone, I'm here, you'd know",
];
const CORPUS_X3 = [...CORPUS, ...CORPUS, ...CORPUS];

const HF_ENCODINGS: [string, number[]][] = [
  ['The quick brown fox jumps over the lazy dog.', [344, 324, 224, 352, 270, 81, 316, 224, 367, 295, 309, 390, 274, 325, 320, 17]],
  [
    "the lazy cat doesn't sleep; it's 3.14 o'clock",
    [267, 325, 307, 286, 281, 266, 81, 330, 265, 279, 72, 83, 30, 224, 289, 282, 224, 22, 17, 335, 309, 10, 70, 79, 82, 70, 78],
  ],
  ['<image>\nWhat does the X-ray show?</s>', [3, 202, 58, 360, 281, 266, 274, 224, 59, 16, 383, 265, 359, 34, 1]],
  [
    '\u00c9mile \u00e0 Z\u00fcrich: e\u0301 (combining acute) vs \u00e9',
    [
      131, 235, 290, 279, 224, 131, 258, 224, 345, 124, 380, 75, 29, 224, 72, 140, 227, 224, 11, 70, 82, 80, 69, 269, 269, 74, 262, 354, 385, 12, 224, 89, 86,
      224, 301,
    ],
  ],
  [
    '\u65e5\u672c\u8a9e\u3068\u4e2d\u6587 mixed with English',
    [166, 249, 395, 168, 107, 256, 302, 397, 120, 259, 321, 224, 290, 91, 72, 71, 224, 90, 289, 75, 224, 40, 81, 74, 79, 362, 75],
  ],
  [
    '\ud83d\ude42 \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 \ud83c\udde9\ud83c\uddea emoji',
    [263, 314, 280, 243, 398, 106, 326, 104, 280, 233, 399, 233, 107, 224, 357, 377],
  ],
  [
    'ctrl \u0000\u0001\u001b[0m bell\u0007 del\u007f nel\u0085 nbsp\u00a0x bom\ufeffy',
    [
      70, 87, 85, 79, 224, 192, 193, 219, 62, 19, 80, 224, 351, 79, 79, 199, 272, 72, 79, 225, 224, 292, 79, 130, 231, 224, 81, 69, 86, 83, 130, 258, 91, 224,
      69, 82, 80, 175, 123, 127, 92,
    ],
  ],
  ['   leading and trailing spaces   ', [273, 264, 72, 68, 71, 269, 74, 275, 224, 87, 85, 68, 76, 369, 74, 265, 296, 266, 318]],
  ['line1\r\nline2\n\n\tindented', [369, 72, 20, 205, 202, 369, 72, 21, 202, 202, 201, 364, 72, 81, 385, 71]],
  ["I'LL they'RE we've 'tis", [44, 10, 47, 47, 274, 92, 10, 53, 40, 224, 391, 331, 72, 224, 10, 87, 362]],
  ['', []],
];
const HF_PREFIX_SPACE_IDS: number[][] = [
  [224, 344, 324, 224, 352, 270, 81, 316, 224, 367, 295, 309, 390, 274, 325, 320, 17],
  [274, 325, 307, 286, 281, 266, 81, 330, 265, 279, 72, 83, 30, 224, 289, 282, 224, 22, 17, 335, 309, 10, 70, 79, 82, 70, 78],
  [3, 224, 202, 58, 360, 281, 266, 274, 224, 59, 16, 383, 265, 359, 34, 1],
];

function expectCode(f: () => unknown, code: TokenizerErrorCode, message: RegExp): TokenizerException {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenizerException);
    expect((err as TokenizerException).code).toBe(code);
    expect((err as Error).message).toMatch(message);
    return err as TokenizerException;
  }
  throw new Error('expected a TokenizerException');
}

describe(ByteLevelBpeTokenizer.name, () => {
  describe('bytes_to_unicode', () => {
    it('maps bytes as GPT-2 does: printable Latin-1 to itself, the rest to U+0100.. in byte order', () => {
      // Values from GPT-2's bytes_to_unicode: space is the familiar 'Ġ', newline 'Ċ'.
      expect(BYTE_TO_CHAR[0x00]).toBe('\u0100'); // Ā
      expect(BYTE_TO_CHAR[0x09]).toBe('\u0109'); // ĉ
      expect(BYTE_TO_CHAR[0x0a]).toBe('\u010a'); // Ċ
      expect(BYTE_TO_CHAR[0x20]).toBe('\u0120'); // Ġ
      expect(BYTE_TO_CHAR[0x21]).toBe('!');
      expect(BYTE_TO_CHAR[0x41]).toBe('A');
      expect(BYTE_TO_CHAR[0x7e]).toBe('~');
      expect(BYTE_TO_CHAR[0x7f]).toBe('\u0121'); // ġ
      expect(BYTE_TO_CHAR[0x80]).toBe('\u0122');
      expect(BYTE_TO_CHAR[0xa0]).toBe('\u0142'); // ł
      expect(BYTE_TO_CHAR[0xa1]).toBe('¡');
      expect(BYTE_TO_CHAR[0xad]).toBe('\u0143'); // Ń (soft hyphen is not printable)
      expect(BYTE_TO_CHAR[0xae]).toBe('®');
      expect(BYTE_TO_CHAR[0xff]).toBe('ÿ');
      expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    });

    it('is the alphabet Hugging Face puts after the special tokens (ids 4..259, by code point)', () => {
      const hfAlphabet = Object.entries(FIXTURE.model.vocab as Record<string, number>)
        .filter(([, id]) => id >= 4 && id < 260)
        .sort((a, b) => a[1] - b[1])
        .map(([t]) => t);
      expect(hfAlphabet).toEqual([...BYTE_TO_CHAR].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
    });
  });

  describe('pre-tokenization', () => {
    it('splits with the GPT-2 pattern (contractions, letters, numbers, punctuation, whitespace runs)', () => {
      const show = (s: string) => byteLevelPreTokenize(s, false).map((w) => w.replace(/\u0120/g, ' ').replace(/\u010a/g, '\n'));
      expect(show("I'm here, it's 42!")).toEqual(['I', "'m", ' here', ',', ' it', "'s", ' 42', '!']);
      // a whitespace run before a word leaves its last space to the word; \s+(?!\S) backtracks
      expect(show('a   b\n\nc')).toEqual(['a', '  ', ' b', '\n', '\n', 'c']);
      expect(show('trailing  ')).toEqual(['trailing', '  ']);
    });
  });

  describe('train', () => {
    it('finds the Hugging Face NLP course merges for hug/pug/pun/bun/hugs', () => {
      // Course chapter 6.5: ("u","g") first, then ("u","n"), then ("h","ug"); the three after
      // those as tokenizers 0.23.3 trains them (fixtures/make-hf-reference.py prints them).
      const corpus = [...Array(10).fill('hug'), ...Array(5).fill('pug'), ...Array(12).fill('pun'), ...Array(4).fill('bun'), ...Array(5).fill('hugs')];
      const tok = ByteLevelBpeTokenizer.train(corpus, { vocabSize: 256 + 4 + 6 });
      expect((tok.toJSON() as { model: { merges: string[][] } }).model.merges).toEqual([
        ['u', 'g'],
        ['u', 'n'],
        ['h', 'ug'],
        ['p', 'un'],
        ['p', 'ug'],
        ['hug', 's'],
      ]);
      expect(tok.vocabSize).toBe(266);
    });

    it('learns the same vocabulary and merges as Hugging Face on the same corpus', () => {
      const tok = ByteLevelBpeTokenizer.train(CORPUS_X3, { vocabSize: 400 });
      const json = tok.toJSON() as { model: { vocab: Record<string, number>; merges: string[][] }; added_tokens: unknown[] };
      expect(json.model.merges).toEqual(FIXTURE.model.merges);
      expect(json.model.vocab).toEqual(FIXTURE.model.vocab);
      expect(json.added_tokens).toEqual(FIXTURE.added_tokens);
    });

    it('is deterministic and stops at minFrequency', () => {
      const a = ByteLevelBpeTokenizer.train(CORPUS, { vocabSize: 350 });
      const b = ByteLevelBpeTokenizer.train(CORPUS, { vocabSize: 350 });
      expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
      const rare = ByteLevelBpeTokenizer.train(['ab ab ab cd'], { vocabSize: 400, minFrequency: 2 });
      // "ab" (3×) and "Ġab" are merged; "cd" (1×) is not
      expect(rare.tokenId('ab')).toBeGreaterThan(259);
      expect(() => rare.tokenId('cd')).toThrow(TokenizerException);
    });

    it('never learns merges across special tokens in the corpus', () => {
      const tok = ByteLevelBpeTokenizer.train(Array(20).fill('<image>x<image>x'), { vocabSize: 300 });
      expect(() => tok.tokenId('<image')).toThrow(TokenizerException);
      expect(tok.encode('<image>x')).toEqual([tok.imageId, tok.tokenId('x')]);
    });

    it('rejects a vocabulary smaller than the alphabet', () => {
      expectCode(
        () => ByteLevelBpeTokenizer.train(['abc'], { vocabSize: 100 }),
        TokenizerErrorCode.InvalidTrainingOptions,
        /vocabSize 100 is smaller than .* \(260\)/,
      );
    });
  });

  describe('encode', () => {
    const hf = ByteLevelBpeTokenizer.fromJSON(FIXTURE);

    it.each(HF_ENCODINGS)('gives the ids Hugging Face gives for %j', (text, ids) => {
      expect(hf.encode(text)).toEqual(ids);
      expect(hf.decode(ids)).toBe(text);
    });

    it('applies add_prefix_space per segment between added tokens, as Hugging Face does', () => {
      const withPrefix = ByteLevelBpeTokenizer.fromJSON({ ...FIXTURE, pre_tokenizer: { ...FIXTURE.pre_tokenizer, add_prefix_space: true } });
      HF_PREFIX_SPACE_IDS.forEach((ids, i) => expect(withPrefix.encode(HF_ENCODINGS[i][0])).toEqual(ids));
    });

    it('encodes the special tokens to their ids and adds bos/eos on request', () => {
      expect([hf.bosId, hf.eosId, hf.padId, hf.imageId]).toEqual([0, 1, 2, 3]);
      expect(hf.encode('<image>', { addBos: true, addEos: true })).toEqual([0, 3, 1]);
      expect(hf.encode('<pad><pad>')).toEqual([2, 2]);
      expect(hf.tokenId('<image>')).toBe(3);
      expectCode(() => hf.tokenId('<mask>'), TokenizerErrorCode.UnknownToken, /<mask>/);
    });
  });

  describe('decode', () => {
    const tok = ByteLevelBpeTokenizer.train(CORPUS, { vocabSize: 330 });

    it('round-trips any well-formed text exactly (random code points from every plane)', () => {
      let s = 12345;
      const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pools = [
        [0, 0x7f],
        [0x80, 0x7ff],
        [0x800, 0xd7ff],
        [0xe000, 0xffff],
        [0x10000, 0x10ffff],
        [0x300, 0x36f],
        [0x1f300, 0x1faff],
      ];
      for (let n = 0; n < 200; n++) {
        let text = '';
        const len = Math.floor(rand() * 30);
        for (let i = 0; i < len; i++) {
          const [lo, hi] = pools[Math.floor(rand() * pools.length)];
          text += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
        }
        expect(tok.decode(tok.encode(text))).toBe(text);
      }
    });

    it('turns lone surrogates into U+FFFD (they have no UTF-8 form) and keeps valid pairs', () => {
      expect(tok.decode(tok.encode('a\ud800b\udc00c\ud83d\ude42'))).toBe('a\ufffdb\ufffdc\ud83d\ude42');
    });

    it('drops special tokens with skipSpecial and keeps them otherwise', () => {
      const ids = tok.encode('<image> hello', { addBos: true, addEos: true });
      expect(tok.decode(ids)).toBe('<s><image> hello</s>');
      expect(tok.decode(ids, { skipSpecial: true })).toBe(' hello');
    });

    it('decodes ids cut inside a character to U+FFFD and rejects unknown ids', () => {
      const ids = ByteLevelBpeTokenizer.train(['x'], { vocabSize: 260 }).encode('é'); // two byte tokens
      expect(ids).toHaveLength(2);
      expect(tok.decode([ids[0]])).toBe('\ufffd');
      expectCode(() => tok.decode([100000]), TokenizerErrorCode.UnknownId, /100000/);
    });
  });

  describe('toJSON / fromJSON', () => {
    it('round-trips through a tokenizer.json string with the same encodings', () => {
      const tok = ByteLevelBpeTokenizer.train(CORPUS, { vocabSize: 330, specialTokens: ['<s>', '</s>', '<pad>', '<image>', '<mask>'] });
      const back = ByteLevelBpeTokenizer.fromJSON(JSON.stringify(tok.toJSON()));
      for (const [text] of HF_ENCODINGS) expect(back.encode(text)).toEqual(tok.encode(text));
      expect(back.tokenId('<mask>')).toBe(4);
      expect(back.vocabSize).toBe(330);
    });

    it('reads the older "a b" merge strings too', () => {
      const old = { ...FIXTURE, model: { ...FIXTURE.model, merges: FIXTURE.model.merges.map((m: string[]) => m.join(' ')) } };
      expect(ByteLevelBpeTokenizer.fromJSON(old).encode(HF_ENCODINGS[0][0])).toEqual(HF_ENCODINGS[0][1]);
    });

    it('added-token flags: normalized is kept and matches as tokenizers 0.23.3 does, lstrip/rstrip/single_word are refused', () => {
      // fixtures/make-hf-reference.py: the fixture plus a non-special "xyzzy" (id 400) added with
      // normalized True and False encodes these texts alike (no normalizer) and tokenizer.json keeps the flag.
      const withToken = (flags: Record<string, unknown>) => ({
        ...FIXTURE,
        added_tokens: [...FIXTURE.added_tokens, { id: 400, content: 'xyzzy', single_word: false, lstrip: false, rstrip: false, special: false, ...flags }],
      });
      for (const normalized of [true, false]) {
        const tok = ByteLevelBpeTokenizer.fromJSON(withToken({ normalized }));
        expect(tok.encode('hello xyzzy world')).toEqual([260, 79, 79, 82, 224, 400, 224, 90, 82, 85, 79, 71]);
        expect(tok.encode('axyzzyb  xyzzy')).toEqual([68, 400, 69, 273, 400]);
        const written = (tok.toJSON() as { added_tokens: { content: string; normalized: boolean }[] }).added_tokens.find((t) => t.content === 'xyzzy');
        expect(written).toEqual({ id: 400, content: 'xyzzy', single_word: false, lstrip: false, rstrip: false, normalized, special: false });
      }
      // tokenizers' default when the flag is absent: normalized for a non-special token.
      const absent = withToken({});
      delete (absent.added_tokens[absent.added_tokens.length - 1] as { normalized?: boolean }).normalized;
      expect(
        (ByteLevelBpeTokenizer.fromJSON(absent).toJSON() as { added_tokens: { content: string; normalized: boolean }[] }).added_tokens.at(-1)?.normalized,
      ).toBe(true);
      for (const flag of ['lstrip', 'rstrip', 'single_word']) {
        const index = FIXTURE.added_tokens.length;
        const error = expectCode(
          () => ByteLevelBpeTokenizer.fromJSON(withToken({ [flag]: true })),
          TokenizerErrorCode.UnsupportedComponent,
          new RegExp(`added_tokens\\[${index}\\]\\.${flag} is not supported`),
        );
        expect(error.fields).toEqual([`added_tokens.${index}.${flag}`]);
      }
      expectCode(
        () => ByteLevelBpeTokenizer.fromJSON(withToken({ normalized: 'yes' })),
        TokenizerErrorCode.InvalidTokenizerJson,
        /normalized must be true or false/,
      );
    });

    it('rejects what it cannot honour, naming the field', () => {
      expectCode(() => ByteLevelBpeTokenizer.fromJSON('{nope'), TokenizerErrorCode.InvalidTokenizerJson, /not JSON/);
      expectCode(
        () => ByteLevelBpeTokenizer.fromJSON({ ...FIXTURE, model: { ...FIXTURE.model, type: 'WordPiece' } }),
        TokenizerErrorCode.UnsupportedComponent,
        /WordPiece/,
      );
      expectCode(() => ByteLevelBpeTokenizer.fromJSON({ ...FIXTURE, normalizer: { type: 'NFC' } }), TokenizerErrorCode.UnsupportedComponent, /NFC/);
      expectCode(
        () => ByteLevelBpeTokenizer.fromJSON({ ...FIXTURE, pre_tokenizer: { type: 'Whitespace' } }),
        TokenizerErrorCode.UnsupportedComponent,
        /Whitespace/,
      );
      expectCode(
        () => ByteLevelBpeTokenizer.fromJSON({ ...FIXTURE, model: { ...FIXTURE.model, merges: [['q', 'zz']] } }),
        TokenizerErrorCode.InvalidTokenizerJson,
        /merges\[0\]/,
      );
      expectCode(
        () => ByteLevelBpeTokenizer.fromJSON({ ...FIXTURE, model: { ...FIXTURE.model, vocab: { a: 0, b: 0 } } }),
        TokenizerErrorCode.InvalidTokenizerJson,
        /id 0 to two tokens/,
      );
    });
  });
});
