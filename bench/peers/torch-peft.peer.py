"""The PyTorch + PEFT peer of bench:ml (bench/ml.bench.ts runs it; it is not run by the tests).

Trains the same LLaVA shape as the Trellis run beside it (CLIP vision tower, GELU projector,
LLaMA text model; transformers' LlavaForConditionalGeneration), at the same batch and sequence,
with the same LoRA targets, rank, alpha and dropout, and AdamW, on CPU with the threads given.
Full fine-tuning, LoRA, and QLoRA (bitsandbytes NF4 with double quantization, when
bitsandbytes can run here). Positions are counted as in the Trellis run: every position the
language model sees, the image's patch positions included.

Input: one JSON object on stdin:
  {"text": {...}, "vision": {...}, "batch": 8, "textTokens": 40, "steps": 8, "warmup": 2,
   "threads": 2, "modes": ["full", "lora", "qlora"], "lora": {"r": 8, "alpha": 16,
   "dropout": 0.05, "targets": ["q_proj", ...]}, "lr": 0.01}
  where textTokens counts the text ids of one example including its one image token.
Output: one JSON line {"torch": ..., "peft": ..., "modes": {"full": {"positionsPerS": ...,
  "msPerStep": ..., "trainable": ...} | {"error": "..."}, ...}}.
"""
import json
import sys
import time

import torch

cfg = json.load(sys.stdin)
torch.set_num_threads(int(cfg.get("threads", 2)))
torch.manual_seed(1)

import peft  # noqa: E402
import transformers  # noqa: E402
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration  # noqa: E402

t, v = cfg["text"], cfg["vision"]
image_token = t["vocabSize"] - 1
num_patches = (v["imageSize"] // v["patchSize"]) ** 2


def build():
    vision = CLIPVisionConfig(
        hidden_size=v["hiddenSize"], intermediate_size=v["intermediateSize"], num_hidden_layers=v["numHiddenLayers"],
        num_attention_heads=v["numAttentionHeads"], image_size=v["imageSize"], patch_size=v["patchSize"],
        num_channels=3, layer_norm_eps=v["layerNormEps"], hidden_act=v["hiddenAct"])
    text = LlamaConfig(
        vocab_size=t["vocabSize"], hidden_size=t["hiddenSize"], intermediate_size=t["intermediateSize"],
        num_hidden_layers=t["numHiddenLayers"], num_attention_heads=t["numAttentionHeads"],
        num_key_value_heads=t["numKeyValueHeads"], max_position_embeddings=t["maxPositionEmbeddings"],
        rms_norm_eps=t["rmsNormEps"], rope_theta=t["ropeTheta"], tie_word_embeddings=t["tieWordEmbeddings"])
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_token,
                         projector_hidden_act="gelu", vision_feature_layer=-2, vision_feature_select_strategy="default")
    config._attn_implementation = "sdpa"
    return LlavaForConditionalGeneration(config)


def batch():
    b, text_tokens = cfg["batch"], cfg["textTokens"]
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, image_token, (b, text_tokens - 1), generator=g)
    # One image per example, right after the first token, expanded to its patch positions as
    # transformers' processor does.
    image = torch.full((b, num_patches), image_token)
    input_ids = torch.cat([ids[:, :1], image, ids[:, 1:]], dim=1)
    labels = input_ids.clone()
    labels[:, : 1 + num_patches] = -100
    pixels = torch.rand((b, 3, v["imageSize"], v["imageSize"]), generator=g)
    return {"input_ids": input_ids, "labels": labels, "pixel_values": pixels, "attention_mask": torch.ones_like(input_ids)}


def lora_config():
    lc = cfg["lora"]
    names = "|".join(lc["targets"])
    # A full-match regex: the language model's and projector's layers, never the vision tower's.
    return peft.LoraConfig(r=lc["r"], lora_alpha=lc["alpha"], lora_dropout=lc["dropout"],
                           target_modules=rf"^(?!.*vision_tower).*\b({names})$", bias="none")


def make(mode):
    if mode == "full":
        return build()
    if mode == "lora":
        return peft.get_peft_model(build(), lora_config())
    if mode == "qlora":
        import bitsandbytes  # noqa: F401  (fails clearly where it cannot be had)
        from transformers import BitsAndBytesConfig
        model = build()
        lc = cfg["lora"]
        skip = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and ("vision_tower" in n or n.split(".")[-1] not in lc["targets"])]
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.float32, llm_int8_skip_modules=skip)
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            model.save_pretrained(d)
            model = LlavaForConditionalGeneration.from_pretrained(d, quantization_config=q, device_map="cpu", torch_dtype=torch.float32)
        return peft.get_peft_model(model, lora_config())
    raise ValueError(mode)


def run(mode):
    model = make(mode)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.get("lr", 0.01))
    data = batch()
    positions = data["input_ids"].numel()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(**data).loss
        loss.backward()
        # The Trellis trainer clips the global norm at 1.0 by default, as the HF Trainer does.
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss)

    for _ in range(cfg["warmup"]):
        step()
    t0 = time.perf_counter()
    for _ in range(cfg["steps"]):
        step()
    secs = time.perf_counter() - t0
    return {"positionsPerS": positions * cfg["steps"] / secs, "msPerStep": secs / cfg["steps"] * 1000,
            "trainable": sum(p.numel() for p in params), "positionsPerStep": positions}


out = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
       "threads": torch.get_num_threads(), "modes": {}}
for mode in cfg["modes"]:
    try:
        out["modes"][mode] = run(mode)
    except Exception as e:  # noqa: BLE001 - reported in the table, the other modes still run
        out["modes"][mode] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}
    print(f"  torch {mode}: done", file=sys.stderr, flush=True)
print(json.dumps(out))
