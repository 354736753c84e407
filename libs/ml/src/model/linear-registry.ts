import * as tf from '@tensorflow/tfjs-core';
import { Linear, type LinearLike } from '../layers/linear';
import { ModelErrorCode, ModelException } from './model.exception';

/**
 * The linear layers of a model by Hugging Face module name. Models fetch each layer from
 * here at every call, so a LoRA/QLoRA wrapper installed with set() takes effect.
 */
export class LinearRegistry {
  private readonly layers = new Map<string, LinearLike>();

  add(layer: Linear): Linear {
    if (this.layers.has(layer.name)) throw new ModelException(ModelErrorCode.DuplicateName, `linear layer '${layer.name}' is defined twice`, [layer.name]);
    this.layers.set(layer.name, layer);
    return layer;
  }

  get(name: string): LinearLike {
    const layer = this.layers.get(name);
    if (!layer) throw new ModelException(ModelErrorCode.UnknownLayer, `no linear layer named '${name}'`, [name]);
    return layer;
  }

  /** Replaces a layer; the replacement must keep the shape. The old layer is not disposed (a wrapper usually owns it). */
  set(name: string, layer: LinearLike): void {
    const current = this.layers.get(name);
    if (!current) {
      const known = [...this.layers.keys()];
      throw new ModelException(
        ModelErrorCode.UnknownLayer,
        `no linear layer named '${name}'; known layers (${known.length}): ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''}`,
        [name],
      );
    }
    if (layer.inFeatures !== current.inFeatures || layer.outFeatures !== current.outFeatures) {
      throw new ModelException(
        ModelErrorCode.InvalidInput,
        `replacement for '${name}' maps ${layer.inFeatures} -> ${layer.outFeatures} features, the layer maps ${current.inFeatures} -> ${current.outFeatures}`,
        [name],
      );
    }
    this.layers.set(name, layer);
  }

  entries(): Map<string, LinearLike> {
    return new Map(this.layers);
  }

  trainableVariables(include: (name: string) => boolean = () => true): tf.Variable[] {
    return [...this.layers].filter(([name]) => include(name)).flatMap(([, l]) => l.trainableVariables());
  }

  setTrainable(flag: boolean): void {
    for (const layer of this.layers.values()) {
      if ('trainable' in layer) (layer as { trainable: boolean }).trainable = flag;
    }
  }

  /**
   * Weights under HF names: `<name>.weight` / `<name>.bias` of plain Linears; a wrapper that
   * wants its tensors saved exposes namedWeights() with names relative to the layer.
   */
  namedWeights(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, layer] of this.layers) {
      if (layer instanceof Linear) {
        out.set(`${name}.weight`, layer.weight);
        if (layer.bias) out.set(`${name}.bias`, layer.bias);
      } else {
        const withWeights = layer as Partial<{ namedWeights(): Map<string, tf.Variable> }>;
        if (typeof withWeights.namedWeights === 'function') {
          for (const [sub, v] of withWeights.namedWeights()) out.set(`${name}.${sub}`, v);
        }
      }
    }
    return out;
  }

  dispose(): void {
    for (const layer of this.layers.values()) layer.dispose();
    this.layers.clear();
  }
}

/** Non-linear parameters (embeddings, norms) by HF name, with their trainable flags. */
export class ParameterStore {
  private readonly params = new Map<string, tf.Variable>();

  add(name: string, variable: tf.Variable): tf.Variable {
    if (this.params.has(name)) throw new ModelException(ModelErrorCode.DuplicateName, `parameter '${name}' is defined twice`, [name]);
    this.params.set(name, variable);
    return variable;
  }

  entries(): Map<string, tf.Variable> {
    return new Map(this.params);
  }

  trainableVariables(include: (name: string) => boolean = () => true): tf.Variable[] {
    return [...this.params].filter(([name, v]) => v.trainable && include(name)).map(([, v]) => v);
  }

  setTrainable(flag: boolean): void {
    for (const v of this.params.values()) v.trainable = flag;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
