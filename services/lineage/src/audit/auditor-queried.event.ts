import { createHash } from 'node:crypto';
import { DocumentNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, SelectionSetNode, visit } from 'graphql';
import { AuditorQueriedData, MAX_AUDITED_IDS } from '@trellis/contracts';
import { personalDataIn } from '@trellis/deidentify';

const UUID_IN_TEXT = /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi;
const WHOLE_PRINCIPAL_ID = /^prn-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Long enough for any name a person would give an operation, short enough to be no message. */
const MAX_OPERATION_NAME = 100;
/** The platform's free-text rule: a run of 7 or more digits may be a record number. */
const DIGIT_RUN = /\d{7}/;

/**
 * The ids a value names. A whole `prn-` principal id is kept whole; otherwise only the UUIDs in
 * it are kept (a stream id such as `dataset-<uuid>` gives its UUID), never the text around them.
 */
function idsIn(text: string): string[] {
  if (WHOLE_PRINCIPAL_ID.test(text)) return [text.toLowerCase()];
  return [...text.matchAll(UUID_IN_TEXT)].map((m) => m[0].toLowerCase());
}

function stringsOf(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
}

function rootFieldsOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, out: string[], seen = new Set<string>()): void {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s.name.value);
    else if (s.kind === Kind.INLINE_FRAGMENT) rootFieldsOf(s.selectionSet, fragments, out, seen);
    else if (!seen.has(s.name.value)) {
      // A fragment spread twice at the root names the same fields; graphql's rules refuse cycles.
      seen.add(s.name.value);
      const fragment = fragments.get(s.name.value);
      if (fragment) rootFieldsOf(fragment.selectionSet, fragments, out, seen);
    }
  }
}

export interface AuditedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** The query text as sent. */
  source: string;
  variables?: Record<string, unknown>;
}

/**
 * What the audit log keeps of an auditor's operation: its type, its name when the personal-data
 * checks find nothing in it (else null), the SHA-256 of the text, the root
 * fields it asks for and the ids among its argument and variable values (at most
 * MAX_AUDITED_IDS, `idCount` counting them all). Nothing else of the text is kept.
 */
export function auditorQueriedData({ document, operation, source, variables }: AuditedOperation): AuditorQueriedData {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const fields: string[] = [];
  rootFieldsOf(operation.selectionSet, fragments, fields);

  // String literals occur only as argument values and variable defaults in an executable document.
  const strings: string[] = [];
  for (const node of [operation, ...fragments.values()]) {
    visit(node, {
      [Kind.STRING]: (s) => {
        strings.push(s.value);
      },
    });
  }
  stringsOf(variables ?? {}, strings);
  const ids = [...new Set(strings.flatMap(idsIn))];

  const name = operation.name?.value ?? null;
  // A GraphQL name has no spaces or punctuation, so the redactor, which looks for words, rarely
  // finds anything in one; the digit rule is what catches a record number glued to a word.
  const operationName = name !== null && name.length <= MAX_OPERATION_NAME && !DIGIT_RUN.test(name) && personalDataIn(name).length === 0 ? name : null;
  return {
    operationType: operation.operation,
    operationName,
    querySha256: createHash('sha256').update(source, 'utf8').digest('hex'),
    rootFields: [...new Set(fields)].slice(0, 100),
    ids: ids.slice(0, MAX_AUDITED_IDS),
    idCount: ids.length,
  };
}
