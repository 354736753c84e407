/** The files of a Hugging Face-layout base checkpoint the trainer takes: what the CLI uploads and the import accepts. */
export const CHECKPOINT_FILE =
  /^(config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|generation_config\.json|model(-\d{5}-of-\d{5})?\.safetensors|model\.safetensors\.index\.json)$/;
