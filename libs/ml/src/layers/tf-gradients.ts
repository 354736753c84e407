import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The CommonJS bundle of @tensorflow/tfjs-core (dist/tf-core.node.js, what `require` loads)
 * carries no gradient definitions: upstream registers them from the union package
 * `@tensorflow/tfjs`, which we do not install. Without them tf.grads / tf.variableGrads fail
 * with "gradient function not found for Sum". The definitions ship with tfjs-core only as
 * ES modules with extensionless relative imports (dist/gradients/*_grad.js), which Node's
 * CommonJS loader cannot require. So we load those files ourselves: each `import` is
 * resolved against the public tf namespace of the same tfjs-core version (kernel names, ops,
 * tf.util, tf.backend_util, tf.broadcast_util, tf.slice_util, the engine) and the module body
 * is evaluated with those bindings. A file whose imports are not all public (a few
 * convolution/pooling gradients use internal backprop ops) is skipped and reported.
 * Gradients already registered (for example by another copy of this shim) are left alone.
 */
export interface GradientRegistration {
  registered: string[];
  skipped: { file: string; reason: string }[];
}

let result: GradientRegistration | null = null;

type Exports = Record<string, unknown>;

export function registerTfjsGradients(): GradientRegistration {
  if (result) return result;
  const registered: string[] = [];
  const skipped: { file: string; reason: string }[] = [];
  const gradientsDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'gradients');
  const cache = new Map<string, Exports>();
  const tfAny = tf as unknown as Record<string, unknown>;
  const namespaces: Record<string, unknown>[] = [
    tfAny,
    tf.util as unknown as Record<string, unknown>,
    tf.backend_util as unknown as Record<string, unknown>,
    tf.broadcast_util as unknown as Record<string, unknown>,
    tf.slice_util as unknown as Record<string, unknown>,
  ];

  const resolveName = (spec: string, name: string): unknown => {
    if (spec === '../engine' && name === 'ENGINE') return tf.engine();
    for (const ns of namespaces) if (ns[name] !== undefined) return ns[name];
    throw new Error(`'${name}' from '${spec}' is not part of the public tfjs-core API`);
  };

  const load = (file: string): Exports => {
    const cached = cache.get(file);
    if (cached) return cached;
    const source = fs.readFileSync(file, 'utf8');
    const bindings: Record<string, unknown> = {};
    const exported: string[] = [];
    const body = source
      .replace(/^import \* as (\w+) from '([^']+)';$/gm, (_m, local: string, spec: string) => {
        if (spec === '../util') bindings[local] = tf.util;
        else if (spec === '../base') bindings[local] = tf;
        else if (spec === '../ops/broadcast_util') bindings[local] = tf.broadcast_util;
        // backend_util re-exports ops/axis_util and ops/conv_util.
        else if (spec === '../ops/axis_util' || spec === '../ops/conv_util') bindings[local] = tf.backend_util;
        else throw new Error(`namespace import of '${spec}' is not supported`);
        return '';
      })
      .replace(/^import \{([^}]*)\} from '([^']+)';$/gm, (_m, list: string, spec: string) => {
        for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
          const [imported, local = imported] = part.split(/\s+as\s+/).map((p) => p.trim());
          if (spec.startsWith('./')) {
            const dep = load(path.join(path.dirname(file), `${spec}.js`));
            if (!(imported in dep)) throw new Error(`'${imported}' not exported by ${spec}`);
            bindings[local] = dep[imported];
          } else {
            bindings[local] = resolveName(spec, imported);
          }
        }
        return '';
      })
      .replace(/^export (const|function|class) (\w+)/gm, (_m, kind: string, name: string) => {
        exported.push(name);
        return `${kind} ${name}`;
      });
    if (/^\s*(import|export)\s/m.test(body)) throw new Error('unsupported import/export form');
    const names = Object.keys(bindings);
    const exportsObject: Exports = {};
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const run = new Function(...names, '__exports', `"use strict";\n${body}\n${exported.map((n) => `__exports.${n} = ${n};`).join('\n')}`);
    run(...names.map((n) => bindings[n]), exportsObject);
    cache.set(file, exportsObject);
    return exportsObject;
  };

  for (const entry of fs.readdirSync(gradientsDir).sort()) {
    if (!entry.endsWith('_grad.js')) continue;
    const file = path.join(gradientsDir, entry);
    let exportsObject: Exports;
    try {
      exportsObject = load(file);
    } catch (error) {
      skipped.push({ file: entry, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const value of Object.values(exportsObject)) {
      const config = value as tf.GradConfig;
      if (!config || typeof config.kernelName !== 'string' || typeof config.gradFunc !== 'function') continue;
      if (tf.getGradient(config.kernelName) == null) {
        tf.registerGradient(config);
        registered.push(config.kernelName);
      }
    }
  }
  result = { registered, skipped };
  return result;
}

registerTfjsGradients();
