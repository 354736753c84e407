/** The part of the ML-infra ByteLevelBpeTokenizer the models need, so any tokenizer fits. */
export interface TokenizerLike {
  encode(text: string, options?: { addBos?: boolean; addEos?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecial?: boolean }): string;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly imageId: number;
}
