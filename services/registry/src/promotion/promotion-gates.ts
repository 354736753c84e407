import { EVALUATION_METRICS, GateVerdict, LOWER_IS_BETTER, Metrics, ModelCardField } from '@trellis/contracts';

/** DESIGN.md: at most 7B parameters, language model + vision encoder + projector. */
export const PARAMETER_BUDGET = 7e9;

/** Everything the gates look at, gathered by the use case from the read models; the gates themselves are pure. */
export interface GateFacts {
  /** The evaluation set the two versions are compared on (content hash), or null when none could be chosen. */
  evaluationSetSha256: string | null;
  /** The candidate's metrics on that set; null when it has no completed evaluation there. */
  candidateMetrics: Metrics | null;
  /** The alias's current holder and its metrics on the same set; null when the alias is free. */
  holder: { modelVersionId: string; version: number; metrics: Metrics | null } | null;
  /** Absolute: a metric may be at most this much worse than the holder's (in the metric's unit). */
  tolerance: number;
  parametersTotal: number;
  budget: number;
  /** Set when subjects of the candidate's snapshot withdrew consent or were erased. */
  flag: { subjects: number; items: number } | null;
  missingCardFields: readonly ModelCardField[];
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));

function metricsGate(f: GateFacts): GateVerdict {
  const gate = 'metrics' as const;
  if (f.evaluationSetSha256 === null || f.candidateMetrics === null) {
    return { gate, passed: false, reason: 'the candidate has no completed evaluation to compare; evaluate it first (trellis eval start)' };
  }
  const set = `evaluation set ${f.evaluationSetSha256.slice(0, 12)}`;
  if (f.holder === null) return { gate, passed: true, reason: `the alias is free: nothing to compare with; the candidate was evaluated on ${set}` };
  if (f.holder.metrics === null) {
    return { gate, passed: false, reason: `the current holder (version ${f.holder.version}) has no evaluation on ${set}; evaluate it there to compare` };
  }
  const worse: string[] = [];
  const compared: string[] = [];
  for (const metric of EVALUATION_METRICS) {
    const held = f.holder.metrics[metric];
    if (held === null) continue;
    const candidate = f.candidateMetrics[metric];
    const lower = LOWER_IS_BETTER.has(metric);
    const bound = lower ? held + f.tolerance : held - f.tolerance;
    if (candidate === null) worse.push(`${metric} missing (holder ${fmt(held)})`);
    else if (lower ? candidate > bound : candidate < bound) worse.push(`${metric} ${fmt(candidate)} ${lower ? '>' : '<'} ${fmt(bound)} (holder ${fmt(held)})`);
    else compared.push(`${metric} ${fmt(candidate)} vs ${fmt(held)}`);
  }
  if (worse.length > 0)
    return { gate, passed: false, reason: `worse than version ${f.holder.version} on ${set} beyond tolerance ${fmt(f.tolerance)}: ${worse.join('; ')}` };
  if (compared.length === 0) return { gate, passed: false, reason: `version ${f.holder.version} has no metric on ${set} to compare with` };
  return { gate, passed: true, reason: `at least version ${f.holder.version}'s on ${set} within tolerance ${fmt(f.tolerance)}: ${compared.join('; ')}` };
}

function budgetGate(f: GateFacts): GateVerdict {
  const total = f.parametersTotal;
  return total <= f.budget
    ? { gate: 'parameter-budget', passed: true, reason: `${total} parameters within the budget of ${f.budget}` }
    : { gate: 'parameter-budget', passed: false, reason: `${total} parameters exceed the budget of ${f.budget}` };
}

function consentGate(f: GateFacts): GateVerdict {
  return f.flag === null
    ? { gate: 'consent', passed: true, reason: 'no subject of the training snapshot has withdrawn consent or been erased' }
    : {
        gate: 'consent',
        passed: false,
        reason: `flagged: ${f.flag.subjects} subject(s) of the training snapshot withdrew consent or were erased (${f.flag.items} item(s)); retrain without them`,
      };
}

function cardGate(f: GateFacts): GateVerdict {
  return f.missingCardFields.length === 0
    ? { gate: 'model-card', passed: true, reason: 'the model card has every required field' }
    : { gate: 'model-card', passed: false, reason: `the model card lacks ${f.missingCardFields.join(', ')} (trellis models card edit)` };
}

/** Every gate's verdict, in the order of PROMOTION_GATES, each with its reason. */
export function checkGates(facts: GateFacts): GateVerdict[] {
  return [metricsGate(facts), budgetGate(facts), consentGate(facts), cardGate(facts)];
}
