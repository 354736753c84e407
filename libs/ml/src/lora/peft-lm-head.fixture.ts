/**
 * A LoRA adapter saved by Hugging Face PEFT 0.21.2 (torch 2.15.0) with lm_head among its
 * targets, for a torch copy of ToyHost(8, 16, 5, 3) that has input and output embeddings as
 * transformers models do, so PEFT also saved base_model.model.lm_head.base_layer.weight; with
 * PEFT's output y for x. Produced by peft-lm-head.fixture.py (beside this file).
 */
export const PEFT_LM_HEAD_ADAPTER = {
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
    lora_alpha: 4,
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
    target_modules: ['lm_head', 'up_proj'],
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
    'MAIAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJiYXNlX21vZGVsLm1vZGVsLmxtX2hlYWQuYmFzZV9sYXllci53ZWlnaHQiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzUsOF0sImRhdGFfb2Zmc2V0cyI6WzAsMTYwXX0sImJhc2VfbW9kZWwubW9kZWwubG1faGVhZC5sb3JhX0Eud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyLDhdLCJkYXRhX29mZnNldHMiOlsxNjAsMjI0XX0sImJhc2VfbW9kZWwubW9kZWwubG1faGVhZC5sb3JhX0Iud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOls1LDJdLCJkYXRhX29mZnNldHMiOlsyMjQsMjY0XX0sImJhc2VfbW9kZWwubW9kZWwubW9kZWwubGF5ZXJzLjAubWxwLnVwX3Byb2oubG9yYV9BLndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMiw4XSwiZGF0YV9vZmZzZXRzIjpbMjY0LDMyOF19LCJiYXNlX21vZGVsLm1vZGVsLm1vZGVsLmxheWVycy4wLm1scC51cF9wcm9qLmxvcmFfQi53ZWlnaHQiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzE2LDJdLCJkYXRhX29mZnNldHMiOlszMjgsNDU2XX19ICAgICAgIGZpCT67fEU+y+lKvsphsj1GMpa+FniFPf1eHz6zr/K8xdmSPhPqQ76MpEo+6DguPguE6D30A7C+nWrIvGh8EL79kI8+pWsZvtvaOD630SE+s20yvksirr7OhVQ+8jhTviakJL7NZIi+MlStvHL+sT4vTDi+07aXvopofD4VfQS+Tt2FvRDbrz5rGyW++fCkvQK6TL5rrIU+wwEhPg8liT72jyC+8gJRvLOLZz4S9bM+y68PPqaiQz3yvXI+UitVvnDthj1lWIy+iux6vvIFO74Q0CM+/ZgRPlt0Vr64v9o9xb/GPkPItr3PK908qsUnPq6Z4D5O0C0/bX8LvxythL7nSI4+xPsVPyJ5LbucNkI+sfyUvh04hb7WcAu+qyrCPVeK5btAh48+3oMAvZeZvz1d09q9G1SOvcLvrL6QxW++nz0VvkyUVjxrII8+QDvZPt5w9b6Gp52+p3+DPvdQFj/nAxW+enUHPx5r6b01PJk9oegjPyDtJ7/F6uO+rE83vmYfjb6eZhw/harqvoaopr5T7/y+IIkpvy1W076Xmhs/XoyhPl94rz5JUhg9e5y5vm4B9T1NBCm/aMwCv0ykur6HbOQ+XUXUPg==',
  x: [
    0.954037070274353, -0.5366038084030151, -1.1715023517608643, 0.5869835019111633, 0.03127216547727585, 0.36037325859069824, -0.351405531167984,
    -0.2449297159910202, -0.09571393579244614, -0.46864333748817444, 0.4361242353916168, -1.9934544563293457, 0.09632144868373871, 0.5630714893341064,
    0.36706534028053284, -2.2457613945007324, 1.0130702257156372, 0.9937198162078857, -0.019004246219992638, -0.1404421478509903, -1.3511033058166504,
    0.5303592085838318, -1.228836178779602, 0.7679030895233154,
  ],
  y: [
    0.16888800263404846, 0.36557507514953613, 0.6519871950149536, -0.03543567657470703, 0.21673643589019775, 0.08247421681880951, 0.3663533627986908,
    0.7084873914718628, -0.20149992406368256, -0.7932982444763184, 0.052305757999420166, -0.23311102390289307, -0.8752701282501221, 0.27478599548339844,
    -0.01780223846435547,
  ],
};
