"""Reference values for the Trellis ML unit tests, from the real Hugging Face implementation.

Run (throwaway venv, not needed by the tests):
    python3 -m venv /tmp/mlref-venv && /tmp/mlref-venv/bin/pip install torch transformers numpy
    /tmp/mlref-venv/bin/python libs/ml/src/model/reference/hf-reference.py > /tmp/hf-reference.json
Produced with torch 2.15.0, transformers 5.24.0. The tests copy the printed numbers.

Weights of the tiny models are not random: every tensor, taken in sorted-name order k, is
filled by fixture_values(n, k) (reproduced in TypeScript as fixtureValues in
reference-fixtures.ts), plus 1 for tensors whose name contains "norm" (so norms stay near 1).
"""
import json
import math

import numpy as np
import torch
import transformers
from transformers import (CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlavaConfig,
                          LlavaForConditionalGeneration, MistralConfig, MistralForCausalLM)
from transformers.masking_utils import sliding_window_causal_mask_function, causal_mask_function
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb
from transformers.models.mistral.modeling_mistral import MistralRMSNorm

torch.set_grad_enabled(False)
out = {"torch": torch.__version__, "transformers": transformers.__version__}


def fixture_values(n, k):
    i = np.arange(n, dtype=np.float64)
    return (0.2 * np.sin(1.7 * i + 0.9 * k + 0.3) + 0.1 * np.cos(0.31 * i * (k + 1))).astype(np.float32)


def fill_model(model):
    names = sorted(model.state_dict().keys())
    sd = model.state_dict()
    for k, name in enumerate(names):
        t = sd[name]
        v = fixture_values(t.numel(), k).reshape(tuple(t.shape))
        if "norm" in name:
            v = v + 1
        t.copy_(torch.from_numpy(v))
    return names


def r(x):
    return [float(f"{v:.7g}") for v in np.asarray(x, dtype=np.float64).ravel()]


# 1. Rotary embeddings: q, k [1, heads=2, T=3, d=8], positions 0..2 and 5..7 (a KV-cache offset of 5).
cfg = LlamaConfig(hidden_size=16, num_attention_heads=2, head_dim=8, rope_theta=10000.0, max_position_embeddings=64)
rope = LlamaRotaryEmbedding(cfg)
q = torch.from_numpy(fixture_values(48, 1).reshape(1, 2, 3, 8))
k = torch.from_numpy(fixture_values(48, 2).reshape(1, 2, 3, 8))
for name, start in (("rotary_offset0", 0), ("rotary_offset5", 5)):
    pos = torch.arange(start, start + 3).unsqueeze(0)
    cos, sin = rope(q, pos)
    qe, ke = apply_rotary_pos_emb(q, k, cos, sin)
    out[name] = {"cos": r(cos[0]), "sin": r(sin[0]), "q": r(qe), "k": r(ke)}

# 2. MistralRMSNorm, hidden 6, eps 1e-6.
norm = MistralRMSNorm(6, eps=1e-6)
norm.weight.copy_(torch.from_numpy(fixture_values(6, 3) + 1))
x = torch.from_numpy(fixture_values(12, 4).reshape(2, 6) * 5)
out["rms_norm"] = {"weight": r(norm.weight), "x": r(x), "y": r(norm(x))}

# 3. Masks as HF builds them (True = may attend): causal and Mistral sliding window 3, 6 queries after 2 cached keys.
def mask_grid(fn, q_len, kv_len, offset):
    return [[int(bool(fn(0, 0, torch.tensor(offset + i), torch.tensor(j)))) for j in range(kv_len)] for i in range(q_len)]
out["mask_causal"] = mask_grid(causal_mask_function, 4, 6, 2)
out["mask_sliding3"] = mask_grid(sliding_window_causal_mask_function(3), 4, 6, 2)

# 4. Activations.
xs = torch.tensor([-3.0, -1.5, -0.5, 0.0, 0.3, 1.0, 2.5])
out["act_x"] = r(xs)
out["gelu"] = r(torch.nn.functional.gelu(xs))
out["gelu_tanh"] = r(torch.nn.functional.gelu(xs, approximate="tanh"))
out["quick_gelu"] = r(transformers.activations.QuickGELUActivation()(xs))
out["silu"] = r(torch.nn.functional.silu(xs))

# 5. Tiny MistralForCausalLM (GQA 4/2 heads, sliding window 3 < sequence 7), eager attention.
mcfg = MistralConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, head_dim=4, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
                     sliding_window=3, tie_word_embeddings=False, attn_implementation="eager")
mistral = MistralForCausalLM(mcfg).eval()
names = fill_model(mistral)
ids = torch.tensor([[3, 1, 4, 1, 5, 9, 2]])
logits = mistral(input_ids=ids).logits
out["tiny_mistral"] = {"names": names, "ids": ids[0].tolist(), "logits": r(logits[0])}
mcfg.sliding_window = None
mistral_full = MistralForCausalLM(mcfg).eval()
fill_model(mistral_full)
out["tiny_mistral_no_window_logits"] = r(mistral_full(input_ids=ids).logits[0])

# 6. Tiny LLaVA: CLIP vision tower (image 16, patch 8 -> 4 patches + class token, 2 layers), GELU projector,
#    Mistral decoder; feature layer -2, class token dropped. HF expects the <image> token repeated once per patch.
vcfg = CLIPVisionConfig(hidden_size=8, intermediate_size=12, num_hidden_layers=2, num_attention_heads=2, image_size=16,
                        patch_size=8, num_channels=3, layer_norm_eps=1e-5, hidden_act="quick_gelu")
tcfg = MistralConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=1, num_attention_heads=4,
                     num_key_value_heads=2, head_dim=4, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
                     sliding_window=None, tie_word_embeddings=False)
lcfg = LlavaConfig(vision_config=vcfg, text_config=tcfg, image_token_index=15, projector_hidden_act="gelu",
                   vision_feature_layer=-2, vision_feature_select_strategy="default", multimodal_projector_bias=True,
                   attn_implementation="eager")
llava = LlavaForConditionalGeneration(lcfg).eval()
llava_names = fill_model(llava)
image = fixture_values(16 * 16 * 3, 7).reshape(16, 16, 3) + 0.5  # HWC, roughly 0.3..0.8
mean = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
std = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
pixel_values = torch.from_numpy(((image - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
text_ids = [1, 15, 3, 4, 5]
hf_ids = torch.tensor([[1, 15, 15, 15, 15, 3, 4, 5]])
llava_logits = llava(input_ids=hf_ids, pixel_values=pixel_values).logits
feats = llava.model.vision_tower(pixel_values, output_hidden_states=True).hidden_states[-2][:, 1:]
out["tiny_llava"] = {"names": llava_names, "image_hwc": r(image), "ids": text_ids, "features": r(feats[0]),
                     "logits": r(llava_logits[0])}

# 7. Exact parameter counts of the published configurations (meta device: no memory).
def count(model):
    return sum(p.numel() for p in model.parameters())
with torch.device("meta"):
    mistral7b = MistralForCausalLM(MistralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                                                 num_attention_heads=32, num_key_value_heads=8, tie_word_embeddings=False))
    llama7b = transformers.LlamaForCausalLM(LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                                                        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32))
    clip = CLIPVisionModel(CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                                            image_size=336, patch_size=14))
    llava7b = LlavaForConditionalGeneration(LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                                       image_size=336, patch_size=14, projection_dim=768),
        text_config=LlamaConfig(vocab_size=32064, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                                num_attention_heads=32, num_key_value_heads=32),
        image_token_index=32000, projector_hidden_act="gelu"))
out["counts"] = {
    "mistral_7b": count(mistral7b),
    "llama2_7b": count(llama7b),
    "clip_vit_l14_336_vision": count(clip),
    "llava15_7b_projector": count(llava7b.model.multi_modal_projector),
    "llava15_7b_vision": count(llava7b.model.vision_tower),
    "llava15_7b_total": count(llava7b),
}
print(json.dumps(out))
