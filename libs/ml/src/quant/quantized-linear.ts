import * as tf from '@tensorflow/tfjs-core';
import { denseForward } from '../layers/dense';
import { Linear, LinearHost, LinearLike } from '../layers/linear';
import { matchModuleNames } from '../lora/target-modules';
import { dequantizeNf4, nf4HeldBytes, Nf4Options, Nf4Quantized, quantizeNf4 } from './nf4.quantizer';
import { QuantErrorCode, QuantException } from './quant.exception';

/**
 * A frozen linear layer whose weight [out, in] is held as NF4 (bitsandbytes Linear4bit). The
 * float32 weight exists only inside a forward pass: it is rebuilt from the packed nibbles in
 * `apply`, inside tf.tidy, and freed with the pass, so only the packed form stays resident.
 * Gradients flow to the input (for LoRA adapters and earlier layers), never to the weight.
 */
export class QuantizedLinear implements LinearLike {
  private constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly weight: Nf4Quantized,
    readonly bias: tf.Tensor1D | null,
  ) {}

  static fromLinear(linear: Linear, options: Nf4Options = {}): QuantizedLinear {
    const w = linear.weight.dataSync() as Float32Array;
    const b = linear.bias ? (linear.bias.dataSync() as Float32Array) : null;
    return QuantizedLinear.fromWeights(linear.name, w, linear.outFeatures, linear.inFeatures, b, options);
  }

  /** weight: row-major [out, in] float32; bias: [out] or null. Both are copied. */
  static fromWeights(
    name: string,
    weight: Float32Array,
    outFeatures: number,
    inFeatures: number,
    bias: Float32Array | null,
    options: Nf4Options = {},
  ): QuantizedLinear {
    if (weight.length !== outFeatures * inFeatures) {
      throw new QuantException(
        QuantErrorCode.InvalidInput,
        `QuantizedLinear ${name}: weight holds ${weight.length} values, expected out=${outFeatures} x in=${inFeatures}`,
        ['weight'],
      );
    }
    if (bias && bias.length !== outFeatures) {
      throw new QuantException(QuantErrorCode.InvalidInput, `QuantizedLinear ${name}: bias holds ${bias.length} values, expected ${outFeatures}`, ['bias']);
    }
    const q = quantizeNf4(weight, [outFeatures, inFeatures], options);
    return new QuantizedLinear(name, inFeatures, outFeatures, q, bias ? tf.tensor1d(Float32Array.from(bias)) : null);
  }

  /** The dequantized weight [out, in]; the caller owns (disposes) it. */
  dequantizedWeight(): tf.Tensor2D {
    return tf.tensor2d(dequantizeNf4(this.weight), [this.outFeatures, this.inFeatures]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => denseForward(x, this.dequantizedWeight(), this.bias, `QuantizedLinear ${this.name}`));
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  /** Bytes held by the quantized weight (packed nibbles + absmax or its double-quantized form). */
  weightBytes(): number {
    return nf4HeldBytes(this.weight);
  }

  dispose(): void {
    this.bias?.dispose();
  }
}

export interface QuantizedLayerReport {
  name: string;
  parameters: number;
  float32Bytes: number;
  quantizedBytes: number;
}

export interface QuantizationReport {
  layers: QuantizedLayerReport[];
  float32Bytes: number;
  quantizedBytes: number;
  /** quantizedBytes / float32Bytes of the quantized weights (biases stay float32 and are not counted). */
  ratio: number;
}

/**
 * Replaces the named linear layers of a model by NF4 QuantizedLinear layers (the QLoRA base).
 * Names are full module names or suffixes such as `q_proj`, matched as PEFT matches them.
 * The replaced float32 layers are disposed.
 */
export function quantizeModel(host: LinearHost, names: readonly string[], options: Nf4Options = {}): QuantizationReport {
  const layers = host.linearLayers();
  const chosen = matchModuleNames(layers.keys(), names, (problem) => new QuantException(QuantErrorCode.InvalidTarget, `quantizeModel: ${problem}`, ['names']));
  const report: QuantizedLayerReport[] = [];
  for (const name of chosen) {
    const layer = layers.get(name)!;
    if (!(layer instanceof Linear)) {
      throw new QuantException(
        QuantErrorCode.UnsupportedLayer,
        `quantizeModel: layer ${name} is a ${layer.constructor.name}, only a plain Linear can be quantized (quantize before applying LoRA)`,
        ['names'],
      );
    }
    const q = QuantizedLinear.fromLinear(layer, options);
    host.setLinear(name, q);
    layer.dispose();
    const parameters = q.inFeatures * q.outFeatures;
    report.push({ name, parameters, float32Bytes: 4 * parameters, quantizedBytes: q.weightBytes() });
  }
  const float32Bytes = report.reduce((s, r) => s + r.float32Bytes, 0);
  const quantizedBytes = report.reduce((s, r) => s + r.quantizedBytes, 0);
  return { layers: report, float32Bytes, quantizedBytes, ratio: quantizedBytes / float32Bytes };
}
