import type { DomainException } from '@trellis/errors';

/**
 * PEFT's rule for `target_modules` given as a list: a module is targeted when its name equals
 * an entry or ends with "." + entry (peft/tuners/tuners_utils.py `check_target_module_exists`).
 * Every entry must match at least one module, so a typo fails loudly instead of training nothing.
 * `invalid` makes the caller's exception (LoRA and quantization report targets in their own domain).
 */
export function matchModuleNames(available: Iterable<string>, targets: readonly string[], invalid: (problem: string) => DomainException): string[] {
  if (targets.length === 0) throw invalid('no target modules given');
  const names = [...available];
  const chosen = new Set<string>();
  for (const target of targets) {
    if (!target) throw invalid('empty target module name');
    const hits = names.filter((n) => n === target || n.endsWith('.' + target));
    if (hits.length === 0) {
      const suffixes = [...new Set(names.map((n) => n.split('.').pop()!))].sort();
      throw invalid(`target module "${target}" matches no linear layer; layer name suffixes are: ${suffixes.join(', ')}`);
    }
    hits.forEach((h) => chosen.add(h));
  }
  return names.filter((n) => chosen.has(n));
}
