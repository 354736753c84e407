/**
 * A LoRA adapter written by Hugging Face PEFT 0.21.2 (torch 2.15.0, throwaway venv) for a torch
 * copy of ToyHost(8, 16, 5, 3) whose base weights and input x were exported from ours, with
 * PEFT's output for x. Produced by:
 *
 * # A LoRA adapter saved by PEFT 0.21.2 (torch 2.15.0) for a torch copy of ToyHost(8, 16, 5, 3).
 * import json, torch, tempfile, os, base64
 * from peft import LoraConfig, get_peft_model
 * d = json.load(open('/tmp/peft-check/ours.json'))  # base weights and x exported from our ToyHost
 * class MLP(torch.nn.Module):
 *     def __init__(s):
 *         super().__init__(); s.up_proj = torch.nn.Linear(8, 16); s.down_proj = torch.nn.Linear(16, 8)
 * class Layer(torch.nn.Module):
 *     def __init__(s):
 *         super().__init__(); s.mlp = MLP()
 * class Inner(torch.nn.Module):
 *     def __init__(s):
 *         super().__init__(); s.layers = torch.nn.ModuleList([Layer()])
 * class Toy(torch.nn.Module):
 *     def __init__(s):
 *         super().__init__(); s.model = Inner(); s.lm_head = torch.nn.Linear(8, 5, bias=False)
 *     def prepare_inputs_for_generation(s, *a, **k): return {}
 *     def forward(s, x):
 *         h = torch.relu(s.model.layers[0].mlp.up_proj(x))
 *         return s.lm_head(x + s.model.layers[0].mlp.down_proj(h))
 * m = Toy()
 * with torch.no_grad():
 *     for n, p in d['base'].items():
 *         mod = m.get_submodule(n); mod.weight.copy_(torch.tensor(p['w']).reshape(p['shape']))
 *         if p['b'] is not None: mod.bias.copy_(torch.tensor(p['b']))
 * torch.manual_seed(0)
 * cfg = LoraConfig(r=2, lora_alpha=6, target_modules=['up_proj', 'down_proj', 'lm_head'], task_type='CAUSAL_LM', lora_dropout=0.0, init_lora_weights=False)
 * pm = get_peft_model(m, cfg)
 * pm.eval()
 * x = torch.tensor(d['x']).reshape(3, 8)
 * y = pm.base_model(x)
 * out = tempfile.mkdtemp(); pm.save_pretrained(out)
 * print(json.dumps(dict(config=json.load(open(os.path.join(out, 'adapter_config.json'))),
 *   safetensorsBase64=base64.b64encode(open(os.path.join(out, 'adapter_model.safetensors'), 'rb').read()).decode(),
 *   x=d['x'], y=y.flatten().tolist())))
 */
export const PEFT_ADAPTER = {
  config: {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: false,
    kasa_config: null,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: 6,
    lora_bias: false,
    lora_dropout: 0.0,
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    monteclora_config: null,
    peft_type: 'LORA',
    peft_version: '0.21.2',
    qalora_group_size: 16,
    r: 2,
    rank_pattern: {},
    revision: null,
    target_modules: ['up_proj', 'down_proj', 'lm_head'],
    target_parameters: null,
    task_type: 'CAUSAL_LM',
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: false,
    velora_config: null,
  },
  safetensorsBase64:
    'sAIAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJiYXNlX21vZGVsLm1vZGVsLmxtX2hlYWQubG9yYV9BLndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMiw4XSwiZGF0YV9vZmZzZXRzIjpbMCw2NF19LCJiYXNlX21vZGVsLm1vZGVsLmxtX2hlYWQubG9yYV9CLndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbNSwyXSwiZGF0YV9vZmZzZXRzIjpbNjQsMTA0XX0sImJhc2VfbW9kZWwubW9kZWwubW9kZWwubGF5ZXJzLjAubWxwLmRvd25fcHJvai5sb3JhX0Eud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyLDE2XSwiZGF0YV9vZmZzZXRzIjpbMTA0LDIzMl19LCJiYXNlX21vZGVsLm1vZGVsLm1vZGVsLmxheWVycy4wLm1scC5kb3duX3Byb2oubG9yYV9CLndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbOCwyXSwiZGF0YV9vZmZzZXRzIjpbMjMyLDI5Nl19LCJiYXNlX21vZGVsLm1vZGVsLm1vZGVsLmxheWVycy4wLm1scC51cF9wcm9qLmxvcmFfQS53ZWlnaHQiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzIsOF0sImRhdGFfb2Zmc2V0cyI6WzI5NiwzNjBdfSwiYmFzZV9tb2RlbC5tb2RlbC5tb2RlbC5sYXllcnMuMC5tbHAudXBfcHJvai5sb3JhX0Iud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsxNiwyXSwiZGF0YV9vZmZzZXRzIjpbMzYwLDQ4OF19fSAgd8U0PuWMlz3VNY2+C3hQvjdLqj648nM+o9sdvj89tr1NcKy+EjzQu3dRiL5noYu+5JWfvOpuWT0LRBS+XdNWPo9Q3L5kQCQ/5Rr4PoimGL8lNjS+Z7ACPY9J0z2Guys+/xKOPkp9LT3IEeO9IMsTvEC6Iz6Cf34+JDTLPchVCj3+pCs+wLsWvvjQPj1seka+GG4xvtI+BL6Mquc9+OfNPWqkF77IrZo9bokMPiA/Ab1AZBw8AERtPQDRHj5Iz3U+lkdFvuyhu72YOMk90BtUPujFXj4i4mE+eMpLPficXr6QZrw8rCcgvqSzKL+W1SA/y6MJP2SSNL/shgc+xvTzvVxP7r3HuaW+ZTmLPtBv1r5huIQ+/RW3PiuWAT/LXoc+RSkzv3ba6r4ieS27nDZCPrH8lL4dOIW+1nALvqsqwj1XiuW7QIePPt6DAL2Xmb89XdPavRtUjr3C76y+kMVvvp89Fb5MlFY8ayCPPkA72T7ecPW+hqedvqd/gz73UBY/5wMVvnp1Bz8ea+m9NTyZPaHoIz8g7Se/xerjvqxPN75mH42+nmYcP4Wq6r6GqKa+U+/8viCJKb8tVtO+l5obP16MoT5feK8+SVIYPXucub5uAfU9TQQpv2jMAr9MpLq+h2zkPl1F1D4=',
  x: [
    -0.6595844030380249, -0.7847386002540588, -0.1553346812725067, 0.6887999773025513, -0.6169698238372803, 0.21986645460128784, 1.0441434383392334,
    0.13143466413021088, -1.482131004333496, 1.2261974811553955, 0.3147123456001282, 0.32974547147750854, 1.2187042236328125, 1.4477519989013672,
    -0.3790011405944824, -0.06283030658960342, -0.706206738948822, -0.7471646070480347, 1.3906493186950684, -0.20762130618095398, 1.7175244092941284,
    -0.3365723490715027, 0.5245116949081421, 0.32415178418159485,
  ],
  y: [
    0.6328224539756775, -0.4081515967845917, 0.8648527264595032, 0.7810169458389282, -0.6371992826461792, -0.6471136212348938, 0.30928969383239746,
    -0.4744187891483307, -0.15359267592430115, 0.38380587100982666, -1.6109728813171387, 2.053612470626831, 1.0317190885543823, 0.5050442814826965,
    -1.310788869857788,
  ],
};
