import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { issueField, isPlainText, isStorableText } from '@trellis/contracts';
import { DomainException, ErrorClass } from '@trellis/errors';

/** Input refused at the edge, before any controller sees it (400, naming the field). */
export class InputException extends DomainException<'INVALID_REQUEST'> {
  readonly errorClass: ErrorClass = 'validation';

  constructor(message: string, field: string, reason: 'UNSAFE_TEXT' | 'TOO_DEEP') {
    super('INVALID_REQUEST', message, [field], reason);
  }
}

/** The parameter type Nest gives a pipe for a GraphQL resolver's `@Args` (GqlParamtype.ARGS, not exported). */
const GRAPHQL_ARGS = 3;

/** JSON bodies nested deeper than this are refused: no request schema goes near it. */
export const MAX_INPUT_DEPTH = 32;

/**
 * The one check every HTTP input passes (issue 11, item 6), whatever the route's own schema says:
 * no string anywhere (path and query parameters, body values and keys, GraphQL arguments) holds
 * NUL or a lone surrogate, which PostgreSQL refuses (a 500) or stores mangled; path and query
 * parameters hold no control characters; bodies are at most MAX_INPUT_DEPTH deep, so that nothing downstream
 * (canonical JSON, hashing) recurses without bound. Each route's zod schema then checks its
 * fields with the shared building blocks of @trellis/contracts (safeText, calendarDate, ...).
 */
@Injectable()
export class SafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'param' || metadata.type === 'query') {
      const base = metadata.data ?? metadata.type;
      checkTree(value, [base], (s) => isPlainText(s), 0);
    } else if (metadata.type === 'body' || Number(metadata.type) === GRAPHQL_ARGS) {
      checkTree(value, metadata.data ? [metadata.data] : [], isStorableText, 0);
    }
    return value;
  }
}

function checkTree(value: unknown, path: (string | number)[], ok: (s: string) => boolean, depth: number): void {
  if (depth > MAX_INPUT_DEPTH) throw new InputException(`nested more than ${MAX_INPUT_DEPTH} levels deep`, issueField({ path }), 'TOO_DEEP');
  if (typeof value === 'string') {
    if (!ok(value))
      throw new InputException(`${issueField({ path })}: not valid text (NUL, a control character or a lone surrogate)`, issueField({ path }), 'UNSAFE_TEXT');
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkTree(v, [...path, i], ok, depth + 1));
  } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      if (!isStorableText(k)) throw new InputException(`${issueField({ path })}: a field name is not valid text`, issueField({ path }), 'UNSAFE_TEXT');
      checkTree(v, [...path, k], ok, depth + 1);
    }
  }
}
