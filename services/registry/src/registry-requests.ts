import { z } from 'zod';
import {
  ALIAS_PATTERN,
  describeIssues,
  isIsoDateTime,
  isUuid,
  issueField,
  MODEL_NAME_PATTERN,
  PAGE_LIMIT_MAX,
  parsePageLimit,
  safeText,
  TAG_KEY_PATTERN,
  TRAINING_METHODS,
} from '@trellis/contracts';
import { RegistryErrorCode, RegistryException } from './registry.exception';

/**
 * The bodies and parameters of the registry's REST API (and CLI), checked whole: a bad request is
 * refused with every problem, each naming its field, and nothing is appended. Free text that goes
 * into an event (reasons, comments, card fields) is refused when it carries personal data.
 */
const note = (max: number) => safeText({ max, multiline: true, refusePersonalData: true });
const modelName = z.string().regex(MODEL_NAME_PATTERN, 'lowercase letters, digits, . _ - (at most 100, starting with a letter or digit)');
const alias = z.string().regex(ALIAS_PATTERN, 'a lowercase name (letters, digits, _ -, at most 50, starting with a letter), not v<number>');
const uuid = z.string().uuid();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');

export const CreateModelBody = z.object({ name: modelName, description: note(4000).optional() }).strict();

export const RegisterVersionBody = z
  .object({
    baseModelId: uuid,
    method: z.enum(TRAINING_METHODS),
    files: z
      .array(z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a file name'), key: z.string().min(1).max(1024) }).strict())
      .min(1)
      .max(50),
  })
  .strict();

export const UpdateVersionBody = z
  .object({
    description: note(4000).nullable().optional(),
    /** key -> value, or null to remove the tag. */
    tags: z
      .record(z.string().regex(TAG_KEY_PATTERN, 'a tag key'), safeText({ max: 500, refusePersonalData: true }).nullable())
      .refine((t) => Object.keys(t).length <= 50, 'at most 50 tags at once')
      .optional(),
  })
  .strict()
  .refine((b) => b.description !== undefined || b.tags !== undefined, 'nothing to change: give description or tags');

export const ArchiveBody = z.object({ reason: note(2000) }).strict();
export const ReasonBody = z.object({ reason: note(2000) }).strict();
export const CommentBody = z.object({ comment: note(2000) }).strict();

export const CardBody = z
  .object({
    intendedUse: note(8000).nullable().optional(),
    outOfScopeUse: note(8000).nullable().optional(),
    factors: note(8000).nullable().optional(),
    ethicalConsiderations: note(8000).nullable().optional(),
    caveats: note(8000).nullable().optional(),
    license: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.+-]{0,99}$/, 'an SPDX license identifier such as apache-2.0, or other')
      .nullable()
      .optional(),
  })
  .strict();

export const PromotionBody = z
  .object({
    model: modelName,
    version: z.number().int().positive(),
    alias,
    reason: note(2000),
    /** Absolute, in each metric's unit; default from REGISTRY_PROMOTION_TOLERANCE. */
    tolerance: z.number().min(0).max(100).optional(),
    /** The set to compare on (content hash); default: the latest set both versions were evaluated on. */
    evaluationSetSha256: sha256.optional(),
  })
  .strict();

const setRef = z.union([z.object({ setId: uuid }).strict(), z.object({ projectId: uuid, version: z.number().int().positive() }).strict()]);
export const EvaluationBody = z
  .object({
    model: modelName,
    version: z.number().int().positive(),
    annotationSet: setRef,
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    maxNewTokens: z.number().int().min(1).max(512).default(32),
  })
  .strict();

export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ ...i, path: ['body', ...i.path] }));
  throw new RegistryException(RegistryErrorCode.InvalidRequest, describeIssues(issues), [...new Set(issues.map(issueField))]);
}

export function requireModelName(value: string, field = 'params.name'): string {
  if (!MODEL_NAME_PATTERN.test(value)) throw new RegistryException(RegistryErrorCode.InvalidRequest, `${field}: not a model name`, [field]);
  return value;
}

export function requireAlias(value: string, field = 'params.alias'): string {
  if (!ALIAS_PATTERN.test(value)) throw new RegistryException(RegistryErrorCode.InvalidRequest, `${field}: not an alias`, [field]);
  return value;
}

export function requireVersionNumber(value: string, field = 'params.version'): number {
  const n = Number(value);
  if (!/^[1-9][0-9]{0,8}$/.test(value) || !Number.isSafeInteger(n))
    throw new RegistryException(RegistryErrorCode.InvalidRequest, `${field}: a version number (1, 2, ...)`, [field]);
  return n;
}

export function requireUuidParam(value: string, field: string): string {
  if (!isUuid(value)) throw new RegistryException(RegistryErrorCode.InvalidRequest, `${field}: must be a UUID`, [field]);
  return value.toLowerCase();
}

export function optionalDate(value: string | undefined, field: string): Date | null {
  if (value === undefined) return null;
  if (!isIsoDateTime(value))
    throw new RegistryException(RegistryErrorCode.InvalidRequest, `${field}: an ISO 8601 date-time with offset, e.g. 2026-12-01T12:00:00Z`, [field]);
  return new Date(value);
}

export function limitParam(value: string | undefined, field = 'query.limit'): number {
  const n = parsePageLimit(value);
  if (n === undefined) throw new RegistryException(RegistryErrorCode.InvalidRequest, `${field}: an integer from 1 to ${PAGE_LIMIT_MAX}`, [field]);
  return n;
}
