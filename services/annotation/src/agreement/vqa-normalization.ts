// The official VQA answer normalization lives once, in the ML library's metrics (a port of
// vqaEval.py checked against the script's own outputs). The metrics entry point loads no
// TensorFlow.js, so the annotation service can import it without the ML runtime.
import { normalizeVqaAnswer } from '@trellis/ml/metrics';

export { normalizeVqaAnswer };

export function vqaExactMatch(a: string, b: string): boolean {
  return normalizeVqaAnswer(a) === normalizeVqaAnswer(b);
}
