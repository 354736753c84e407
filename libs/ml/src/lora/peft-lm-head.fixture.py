# A LoRA adapter that PEFT 0.21.2 (torch 2.15.0) saves with lm_head among its targets for a
# model that has input and output embeddings (as every transformers causal LM does): PEFT then
# also saves base_model.model.lm_head.base_layer.weight. For peft-lm-head.fixture.ts.
# Base weights and x come from our ToyHost(8, 16, 5, 3), exported to /tmp/peft-check/ours.json
# (Linear weights, biases and tf.randomNormal([3, 8], 0, 1, 'float32', 11)).
#   .trellis/torch-peer/bin/python libs/ml/src/lora/peft-lm-head.fixture.py > /tmp/peft-lm.json
import base64, json, os, tempfile
import torch
from peft import LoraConfig, get_peft_model

d = json.load(open('/tmp/peft-check/ours.json'))

class MLP(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.up_proj = torch.nn.Linear(8, 16); s.down_proj = torch.nn.Linear(16, 8)

class Layer(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.mlp = MLP()

class Inner(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.embed_tokens = torch.nn.Embedding(5, 8); s.layers = torch.nn.ModuleList([Layer()])

class Toy(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.model = Inner(); s.lm_head = torch.nn.Linear(8, 5, bias=False)
    def get_input_embeddings(s): return s.model.embed_tokens
    def get_output_embeddings(s): return s.lm_head
    def prepare_inputs_for_generation(s, *a, **k): return {}
    def forward(s, x):
        h = torch.relu(s.model.layers[0].mlp.up_proj(x))
        return s.lm_head(x + s.model.layers[0].mlp.down_proj(h))

m = Toy()
with torch.no_grad():
    for n, p in d['base'].items():
        mod = m.get_submodule(n); mod.weight.copy_(torch.tensor(p['w']).reshape(p['shape']))
        if p['b'] is not None: mod.bias.copy_(torch.tensor(p['b']))
torch.manual_seed(0)
cfg = LoraConfig(r=2, lora_alpha=4, target_modules=['up_proj', 'lm_head'], task_type='CAUSAL_LM', lora_dropout=0.0, init_lora_weights=False)
pm = get_peft_model(m, cfg)
pm.eval()
x = torch.tensor(d['x']).reshape(3, 8)
y = pm.base_model(x)
out = tempfile.mkdtemp(); pm.save_pretrained(out)
from safetensors.torch import load_file
print(sorted(load_file(os.path.join(out, 'adapter_model.safetensors'))), file=__import__('sys').stderr)
print(json.dumps(dict(config=json.load(open(os.path.join(out, 'adapter_config.json'))),
    safetensorsBase64=base64.b64encode(open(os.path.join(out, 'adapter_model.safetensors'), 'rb').read()).decode(),
    x=d['x'], y=y.flatten().tolist())))
