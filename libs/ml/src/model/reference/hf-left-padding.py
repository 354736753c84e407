"""Reference values for left-padded batches (decoder-model.unit.spec.ts, "attention mask").

The tiny MistralForCausalLM of hf-reference.py (same fixture weights, eager attention), given a
left-padded batch with its attention_mask and the position_ids transformers' generate() derives
from it (cumsum(mask) - 1, padding set to 1); and greedy generate() on that batch.

Run (produced with torch 2.15.0, transformers 5.24.0):
    .trellis/torch-peer/bin/python libs/ml/src/model/reference/hf-left-padding.py
"""
import json

import numpy as np
import torch
import transformers
from transformers import MistralConfig, MistralForCausalLM

torch.set_grad_enabled(False)


def fixture_values(n, k):  # as in hf-reference.py
    i = np.arange(n, dtype=np.float64)
    return (0.2 * np.sin(1.7 * i + 0.9 * k + 0.3) + 0.1 * np.cos(0.31 * i * (k + 1))).astype(np.float32)


def fill_model(model):  # as in hf-reference.py
    sd = model.state_dict()
    for k, name in enumerate(sorted(sd.keys())):
        v = fixture_values(sd[name].numel(), k).reshape(tuple(sd[name].shape))
        sd[name].copy_(torch.from_numpy(v + 1 if "norm" in name else v))


def r(x):
    return [float(f"{v:.7g}") for v in np.asarray(x, dtype=np.float64).ravel()]


out = {"torch": torch.__version__, "transformers": transformers.__version__}
ROWS = [[3, 1, 4, 1, 5, 9, 2], [7, 2, 8], [5, 3, 5, 11, 6]]
PAD = 0
T = max(len(row) for row in ROWS)
ids = torch.tensor([[PAD] * (T - len(row)) + row for row in ROWS])
mask = torch.tensor([[0] * (T - len(row)) + [1] * len(row) for row in ROWS])
positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
out["ids"] = ids.tolist()
out["mask"] = mask.tolist()
for window in (3, None):
    cfg = MistralConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, head_dim=4, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
                        sliding_window=window, tie_word_embeddings=False, attn_implementation="eager")
    model = MistralForCausalLM(cfg).eval()
    fill_model(model)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    # Only the real positions: what a padded position computes is not used by anyone.
    key = "window3" if window else "no_window"
    out[key] = {"logits": [r(logits[b, T - len(row):]) for b, row in enumerate(ROWS)],
                "unpadded": [r(model(input_ids=torch.tensor([row])).logits[0]) for row in ROWS]}
    if window is None:
        gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=6, do_sample=False, pad_token_id=PAD,
                             eos_token_id=None, bos_token_id=None)
        out["greedy"] = gen[:, T:].tolist()
print(json.dumps(out))
