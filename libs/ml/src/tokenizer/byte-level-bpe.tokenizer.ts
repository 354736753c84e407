import { BYTE_TO_CHAR, CHAR_TO_BYTE, byteLevelPreTokenize, utf8 } from './byte-level';
import { trainBpe } from './bpe-trainer';
import { TokenizerErrorCode, TokenizerException } from './tokenizer.exception';

export const DEFAULT_SPECIAL_TOKENS = ['<s>', '</s>', '<pad>', '<image>'];

export interface TrainOptions {
  vocabSize: number;
  /** Default DEFAULT_SPECIAL_TOKENS; they get ids 0.. in this order. */
  specialTokens?: string[];
  /** Pairs seen fewer times than this are not merged. Default 0 (as Hugging Face's BpeTrainer). */
  minFrequency?: number;
}

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  /**
   * Whether `tokenizers` matches the token in the normalized text. Without a normalizer (the
   * only kind this tokenizer reads) both ways match the same; kept so that it is written back
   * as it was read. Default as in `tokenizers`: true for non-special tokens.
   */
  normalized?: boolean;
}

/** AddedToken flags that change matching in `tokenizers`; refused when set rather than ignored. */
const UNSUPPORTED_ADDED_TOKEN_FLAGS = ['lstrip', 'rstrip', 'single_word'] as const;

interface TokenizerState {
  vocab: Map<string, number>;
  merges: [string, string][];
  addedTokens: AddedToken[];
  addPrefixSpace: boolean;
  ignoreMerges: boolean;
  /** Fields of the loaded tokenizer.json that we do not interpret but write back unchanged. */
  passthrough: Record<string, unknown>;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function invalid(message: string, field: string): TokenizerException {
  return new TokenizerException(TokenizerErrorCode.InvalidTokenizerJson, message, [field]);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Byte-level BPE as GPT-2 and Hugging Face `tokenizers` (model BPE, pre-tokenizer and decoder
 * ByteLevel) define it: text is split by the GPT-2 pattern, each piece's UTF-8 bytes are
 * written with the bytes_to_unicode alphabet and merged by merge rank. Any text round-trips
 * through encode/decode exactly, except lone UTF-16 surrogates, which have no UTF-8 form and
 * come back as U+FFFD. Added tokens (special or not) are matched literally in the input
 * before pre-tokenization, longest first.
 */
export class ByteLevelBpeTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly idToToken: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly added = new Map<string, AddedToken>();
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedPattern: RegExp | null;
  private readonly cache = new Map<string, number[]>();

  private constructor(private readonly state: TokenizerState) {
    this.vocab = state.vocab;
    for (const [t, id] of state.vocab) this.idToToken[id] = t;
    state.merges.forEach(([a, b], rank) => this.ranks.set(a + ' ' + b, rank));
    for (const t of state.addedTokens) {
      this.added.set(t.content, t);
      this.addedById.set(t.id, t);
      this.idToToken[t.id] = t.content;
    }
    const contents = [...this.added.keys()].filter((c) => c.length > 0).sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : null;
  }

  static train(corpus: string[], options: TrainOptions): ByteLevelBpeTokenizer {
    const specialTokens = options.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
    if (!Number.isInteger(options.vocabSize) || options.vocabSize <= 0) {
      throw new TokenizerException(TokenizerErrorCode.InvalidTrainingOptions, `vocabSize must be a positive integer, got ${options.vocabSize}`, ['vocabSize']);
    }
    if (new Set(specialTokens).size !== specialTokens.length || specialTokens.some((t) => t.length === 0)) {
      throw new TokenizerException(TokenizerErrorCode.InvalidTrainingOptions, 'specialTokens must be distinct and non-empty', ['specialTokens']);
    }
    // Special tokens are cut out of the corpus first: encode never lets them reach BPE, so
    // merges learned from them would be wasted. (Hugging Face's trainer does not cut them.)
    const splitter = specialTokens.length
      ? new RegExp(
          [...specialTokens]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|'),
          'g',
        )
      : null;
    const wordCounts = new Map<string, number>();
    for (const text of corpus) {
      for (const piece of splitter ? text.split(splitter) : [text]) {
        for (const w of byteLevelPreTokenize(piece, false)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
      }
    }
    const { vocab, merges } = trainBpe(wordCounts, {
      vocabSize: options.vocabSize,
      specialTokens,
      minFrequency: options.minFrequency ?? 0,
      initialAlphabet: BYTE_TO_CHAR,
    });
    return new ByteLevelBpeTokenizer({
      vocab,
      merges,
      addedTokens: specialTokens.map((content) => ({ id: vocab.get(content)!, content, special: true })),
      addPrefixSpace: false,
      ignoreMerges: false,
      passthrough: {},
    });
  }

  /** Loads a Hugging Face tokenizer.json whose model is BPE with ByteLevel pre-tokenizer and decoder. */
  static fromJSON(json: string | object): ByteLevelBpeTokenizer {
    let obj: Record<string, unknown>;
    try {
      obj = (typeof json === 'string' ? JSON.parse(json) : json) as Record<string, unknown>;
    } catch (err) {
      throw invalid(`tokenizer.json is not JSON: ${(err as Error).message}`, '');
    }
    if (!obj || typeof obj !== 'object') throw invalid('tokenizer.json must be an object', '');
    const model = obj.model as Record<string, unknown> | undefined;
    if (!model || typeof model !== 'object') throw invalid('tokenizer.json has no "model"', 'model');
    if (model.type !== undefined && model.type !== 'BPE') {
      throw new TokenizerException(TokenizerErrorCode.UnsupportedComponent, `model.type ${String(model.type)} is not supported; only BPE`, ['model.type']);
    }
    for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (model[key])
        throw new TokenizerException(TokenizerErrorCode.UnsupportedComponent, `model.${key} is not supported by byte-level BPE`, [`model.${key}`]);
    }
    if (model.byte_fallback)
      throw new TokenizerException(TokenizerErrorCode.UnsupportedComponent, 'model.byte_fallback is not supported (a byte-level vocabulary has every byte)', [
        'model.byte_fallback',
      ]);
    if (obj.normalizer != null) {
      throw new TokenizerException(
        TokenizerErrorCode.UnsupportedComponent,
        `normalizer ${JSON.stringify((obj.normalizer as { type?: string }).type)} is not supported; only null`,
        ['normalizer'],
      );
    }
    const pre = obj.pre_tokenizer as Record<string, unknown> | null | undefined;
    if (!pre || pre.type !== 'ByteLevel' || pre.use_regex === false) {
      throw new TokenizerException(
        TokenizerErrorCode.UnsupportedComponent,
        `pre_tokenizer must be ByteLevel with use_regex, got ${JSON.stringify(pre?.type ?? null)}`,
        ['pre_tokenizer'],
      );
    }
    const dec = obj.decoder as Record<string, unknown> | null | undefined;
    if (dec != null && dec.type !== 'ByteLevel') {
      throw new TokenizerException(TokenizerErrorCode.UnsupportedComponent, `decoder must be ByteLevel, got ${JSON.stringify(dec.type)}`, ['decoder']);
    }

    const rawVocab = model.vocab as Record<string, unknown> | undefined;
    if (!rawVocab || typeof rawVocab !== 'object') throw invalid('model.vocab must be an object of token -> id', 'model.vocab');
    const vocab = new Map<string, number>();
    const seenIds = new Set<number>();
    for (const [t, id] of Object.entries(rawVocab)) {
      if (!Number.isInteger(id) || (id as number) < 0) throw invalid(`model.vocab[${JSON.stringify(t)}] is not a non-negative integer id`, 'model.vocab');
      if (seenIds.has(id as number)) throw invalid(`model.vocab gives id ${id} to two tokens`, 'model.vocab');
      seenIds.add(id as number);
      vocab.set(t, id as number);
    }
    const rawMerges = model.merges;
    if (!Array.isArray(rawMerges)) throw invalid('model.merges must be an array', 'model.merges');
    const merges = rawMerges.map((m, i): [string, string] => {
      // tokenizers < 0.20 writes "a b", newer versions ["a", "b"].
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw invalid(`model.merges[${i}] is not a pair of tokens`, `model.merges.${i}`);
      }
      if (!vocab.has(pair[0]) || !vocab.has(pair[1]) || !vocab.has(pair[0] + pair[1])) {
        throw invalid(`model.merges[${i}] (${JSON.stringify(pair)}) uses or makes a token missing from model.vocab`, `model.merges.${i}`);
      }
      return [pair[0], pair[1]];
    });
    const rawAdded = (obj.added_tokens ?? []) as unknown[];
    if (!Array.isArray(rawAdded)) throw invalid('added_tokens must be an array', 'added_tokens');
    const addedTokens = rawAdded.map((t, i): AddedToken => {
      const a = t as Record<string, unknown>;
      if (!a || !Number.isInteger(a.id) || typeof a.content !== 'string')
        throw invalid(`added_tokens[${i}] needs an integer id and a string content`, `added_tokens.${i}`);
      for (const flag of UNSUPPORTED_ADDED_TOKEN_FLAGS) {
        if (a[flag] === true)
          throw new TokenizerException(
            TokenizerErrorCode.UnsupportedComponent,
            `added_tokens[${i}].${flag} is not supported (it changes which text the token matches); only false`,
            [`added_tokens.${i}.${flag}`],
          );
      }
      if (a.normalized !== undefined && typeof a.normalized !== 'boolean')
        throw invalid(`added_tokens[${i}].normalized must be true or false`, `added_tokens.${i}.normalized`);
      const special = a.special === true;
      return { id: a.id as number, content: a.content, special, normalized: a.normalized ?? !special };
    });
    const { model: _m, added_tokens: _a, ...passthrough } = obj;
    return new ByteLevelBpeTokenizer({
      vocab,
      merges,
      addedTokens,
      addPrefixSpace: pre.add_prefix_space === true,
      ignoreMerges: model.ignore_merges === true,
      passthrough: passthrough as Record<string, unknown>,
    });
  }

  /** The Hugging Face tokenizer.json object (JSON.stringify it to save). */
  toJSON(): object {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: this.state.addPrefixSpace, trim_offsets: true, use_regex: true };
    const vocab: Record<string, number> = {};
    for (const [t, id] of [...this.vocab].sort((a, b) => a[1] - b[1])) vocab[t] = id;
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      ...this.state.passthrough,
      added_tokens: [...this.state.addedTokens]
        .sort((a, b) => a.id - b.id)
        .map((t) => ({
          id: t.id,
          content: t.content,
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: t.normalized ?? !t.special,
          special: t.special,
        })),
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: this.state.ignoreMerges,
        vocab,
        merges: this.state.merges.map(([a, b]) => [a, b]),
      },
    };
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }
  get bosId(): number {
    return this.optionalId('<s>');
  }
  get eosId(): number {
    return this.optionalId('</s>');
  }
  get padId(): number {
    return this.optionalId('<pad>');
  }
  get imageId(): number {
    return this.optionalId('<image>');
  }

  /** The id of a token (vocabulary or added); throws for an unknown one. */
  tokenId(token: string): number {
    const id = this.added.get(token)?.id ?? this.vocab.get(token);
    if (id === undefined) throw new TokenizerException(TokenizerErrorCode.UnknownToken, `unknown token ${JSON.stringify(token)}`);
    return id;
  }

  /** The vocabulary string of an id (byte-level characters for BPE tokens). */
  idToTokenString(id: number): string {
    const t = this.idToToken[id];
    if (t === undefined) throw new TokenizerException(TokenizerErrorCode.UnknownId, `token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
    return t;
  }

  encode(text: string, options: { addBos?: boolean; addEos?: boolean } = {}): number[] {
    const ids: number[] = [];
    if (options.addBos) ids.push(this.requiredId('<s>', 'addBos'));
    let last = 0;
    if (this.addedPattern) {
      for (const m of text.matchAll(this.addedPattern)) {
        if (m.index! > last) this.encodeOrdinary(text.slice(last, m.index), ids);
        ids.push(this.added.get(m[0])!.id);
        last = m.index! + m[0].length;
      }
    }
    if (last < text.length) this.encodeOrdinary(text.slice(last), ids);
    if (options.addEos) ids.push(this.requiredId('</s>', 'addEos'));
    return ids;
  }

  decode(ids: number[], options: { skipSpecial?: boolean } = {}): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added) {
        if (added.special && options.skipSpecial) continue;
        for (const b of utf8(added.content)) bytes.push(b);
        continue;
      }
      for (const ch of this.idToTokenString(id)) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b === undefined)
          throw new TokenizerException(TokenizerErrorCode.UnknownId, `token id ${id} holds ${JSON.stringify(ch)}, which is not a byte-level character`);
        bytes.push(b);
      }
    }
    // Ids cut in the middle of a character decode to U+FFFD, as Hugging Face does.
    return decoder.decode(new Uint8Array(bytes));
  }

  private optionalId(token: string): number {
    return this.added.get(token)?.id ?? this.vocab.get(token) ?? -1;
  }

  private requiredId(token: string, option: string): number {
    const id = this.optionalId(token);
    if (id < 0)
      throw new TokenizerException(TokenizerErrorCode.UnknownToken, `${option} needs the token ${token}, which this tokenizer does not have`, [option]);
    return id;
  }

  private encodeOrdinary(text: string, out: number[]): void {
    for (const word of byteLevelPreTokenize(text, this.state.addPrefixSpace)) {
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.bpe(word);
        if (this.cache.size < 100_000) this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** Merges a word's symbols, lowest merge rank first, every occurrence left to right. */
  private bpe(word: string): number[] {
    const whole = this.vocab.get(word);
    if (this.state.ignoreMerges && whole !== undefined) return [whole];
    const symbols = [...word];
    for (;;) {
      let bestRank = Infinity;
      let bestPair = '';
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = this.ranks.get(symbols[i] + ' ' + symbols[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          bestPair = symbols[i] + ' ' + symbols[i + 1];
        }
      }
      if (bestRank === Infinity) break;
      for (let i = 0; i + 1 < symbols.length; i++) {
        if (symbols[i] + ' ' + symbols[i + 1] === bestPair) symbols.splice(i, 2, symbols[i] + symbols[i + 1]);
      }
    }
    return symbols.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined)
        throw new TokenizerException(
          TokenizerErrorCode.UnknownToken,
          `symbol ${JSON.stringify(s)} is not in the vocabulary (a byte-level vocabulary should hold all 256 bytes)`,
        );
      return id;
    });
  }
}
