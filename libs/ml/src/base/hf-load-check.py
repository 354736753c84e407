"""Loads a base checkpoint written by writeBaseCheckpoint with Hugging Face transformers and prints
reference values for tiny-base-model.unit.spec.ts (saved in hf-load-check.values.ts).

What it checks: config.json is read by LlavaConfig, the weights load into
LlavaForConditionalGeneration.from_pretrained with no missing, unexpected or mismatched key (so
nothing is left randomly initialised), and tokenizer.json loads in the `tokenizers` library. It then
prints the tokenizer's ids for a fixed prompt/answer and the logits of the model for them with a
fixed image, which the spec compares with ours.

Our model takes pixels in 0..1 (NHWC) and one <image> token; HF takes CLIP-normalised NCHW
pixel_values and the <image> token repeated once per patch (image_seq_length), as its processor
would expand it. Both are done here by hand: the checkpoint has no preprocessor_config.json.

Run (produced with torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3):
    npx ts-node -r tsconfig-paths/register --transpile-only -e \
      "require('@trellis/ml').initMlBackend().then(() => require('@trellis/ml').createTinyBaseModel({ seed: 11 }))
         .then((m) => require('@trellis/ml').writeBaseCheckpoint('/tmp/tiny-base-11', m))"
    .trellis/torch-peer/bin/python libs/ml/src/base/hf-load-check.py /tmp/tiny-base-11
"""
import hashlib
import json
import os
import sys

import numpy as np
import tokenizers
import torch
import transformers
from transformers import LlavaForConditionalGeneration

torch.set_grad_enabled(False)
ckpt = sys.argv[1]

model, info = LlavaForConditionalGeneration.from_pretrained(ckpt, attn_implementation="eager", output_loading_info=True)
model = model.eval()
problems = {k: sorted(v) if not isinstance(v, dict) else v for k, v in info.items() if v}
if problems:
    sys.exit(f"{ckpt} did not load cleanly: {problems}")
cfg = model.config


def fixture_values(n, k):  # as in libs/ml/src/model/reference/hf-reference.py
    i = np.arange(n, dtype=np.float64)
    return (0.2 * np.sin(1.7 * i + 0.9 * k + 0.3) + 0.1 * np.cos(0.31 * i * (k + 1))).astype(np.float32)


def r(x):
    return [float(f"{v:.7g}") for v in np.asarray(x, dtype=np.float64).ravel()]


tok = tokenizers.Tokenizer.from_file(os.path.join(ckpt, "tokenizer.json"))
bos = cfg.text_config.bos_token_id
image_id = cfg.image_token_index
# One synthetic question/answer pair as buildTrainingExample lays it out: <s>, the LLaVA-1.5
# template with <image> before the question, then the answer after a space (the </s> is left off).
QUESTION, ANSWER = "What shape is the finding?", "circle"
prompt = f"USER: <image>\n{QUESTION} ASSISTANT:"
ids = [bos] + tok.encode(prompt, add_special_tokens=False).ids + tok.encode(f" {ANSWER}", add_special_tokens=False).ids
assert ids.count(image_id) == 1, ids
n = cfg.image_seq_length
at = ids.index(image_id)
hf_ids = torch.tensor([ids[:at] + [image_id] * n + ids[at + 1:]])

size = cfg.vision_config.image_size
image = fixture_values(size * size * 3, 7).reshape(size, size, 3) + 0.5  # HWC, about 0.2..0.8
mean = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
std = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
pixel_values = torch.from_numpy(((image - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
logits = model(input_ids=hf_ids, pixel_values=pixel_values).logits[0]

with open(os.path.join(ckpt, "model.safetensors"), "rb") as f:
    weights_sha256 = hashlib.sha256(f.read()).hexdigest()
TAIL = 4
print(json.dumps({
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "tokenizers": tokenizers.__version__,
    "weights_sha256": weights_sha256,
    "question": QUESTION,
    "answer": ANSWER,
    "ids": ids,
    "decoded": tok.decode(ids, skip_special_tokens=False),
    "positions": logits.shape[0],
    "argmax": logits.argmax(-1).tolist(),
    "logits_tail": r(logits[-TAIL:]),
}))
