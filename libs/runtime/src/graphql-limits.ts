import {
  ASTVisitor,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLError,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';

export interface GraphqlLimits {
  /** Root fields per operation, aliases counted one by one (200 aliased verifyEventLog took 1.2 s). */
  maxRootFields: number;
  /** Nesting depth of fields. */
  maxDepth: number;
  /**
   * Estimated result size: each field counts 1, and a field with a `first` argument counts its
   * selection `first` times (100 aliased eventLog(first: 1000) returned 12.5 MB).
   */
  maxCost: number;
}

export const DEFAULT_GRAPHQL_LIMITS: GraphqlLimits = { maxRootFields: 20, maxDepth: 12, maxCost: 50_000 };

function tooMuch(reason: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', error: 'QUERY_TOO_COSTLY', reason } });
}

/**
 * A validation rule, so the limits hold before any resolver runs and for every operation of a
 * document. Fragments are expanded where they are spread; a fragment spread inside itself is
 * already refused by graphql's own rules, and the depth cap ends any other recursion.
 */
export function queryLimitsRule(limits: GraphqlLimits = DEFAULT_GRAPHQL_LIMITS): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

    const firstOf = (field: FieldNode): number => {
      const arg = field.arguments?.find((a) => a.name.value === 'first');
      if (!arg) return 1;
      if (arg.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
      // A variable: its value is not known here, so count the largest page a resolver allows.
      return 1000;
    };

    const measure = (set: SelectionSetNode | undefined, depth: number): { cost: number; depth: number } => {
      if (!set) return { cost: 0, depth };
      let cost = 0;
      let deepest = depth;
      for (const s of set.selections) {
        if (deepest > limits.maxDepth) break;
        if (s.kind === Kind.FIELD) {
          const inner = measure(s.selectionSet, depth + 1);
          cost += 1 + firstOf(s) * inner.cost;
          deepest = Math.max(deepest, inner.depth);
        } else {
          const target = s.kind === Kind.INLINE_FRAGMENT ? s.selectionSet : fragments.get(s.name.value)?.selectionSet;
          const inner = measure(target, depth);
          cost += inner.cost;
          deepest = Math.max(deepest, inner.depth);
        }
      }
      return { cost, depth: deepest };
    };

    const rootFields = (set: SelectionSetNode): number =>
      set.selections.reduce((n, s) => {
        if (s.kind === Kind.FIELD) return n + 1;
        const target = s.kind === Kind.INLINE_FRAGMENT ? s.selectionSet : fragments.get(s.name.value)?.selectionSet;
        return n + (target ? rootFields(target) : 0);
      }, 0);

    return {
      OperationDefinition(op: OperationDefinitionNode) {
        const roots = rootFields(op.selectionSet);
        if (roots > limits.maxRootFields) {
          context.reportError(
            tooMuch(
              'TOO_MANY_ROOT_FIELDS',
              `an operation may select at most ${limits.maxRootFields} root fields (aliases count one by one); this one selects ${roots}`,
            ),
          );
          return;
        }
        const { cost, depth } = measure(op.selectionSet, 1);
        if (depth > limits.maxDepth) context.reportError(tooMuch('TOO_DEEP', `fields may nest at most ${limits.maxDepth} deep`));
        else if (cost > limits.maxCost) {
          context.reportError(
            tooMuch('TOO_COSTLY', `this operation would return about ${cost} values; the limit is ${limits.maxCost} (ask for smaller pages)`),
          );
        }
      },
    };
  };
}
