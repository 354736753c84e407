import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';
import { LOWERCASE_UUID_PATTERN } from './uuid';

/**
 * Log `audit` (topic `trellis.audit.v1`): what auditors looked at. Every GraphQL operation of a
 * principal holding the `auditor` role is appended here before it runs (DESIGN.md "Who uses it":
 * auditors read everything, so their reading is itself on the record). Who asked is the envelope's
 * actor; the data holds only what identifies the question without repeating it: the SHA-256 of
 * the query text, the schema's root field names, and the pseudonymous ids the query named.
 * Free text from the query (string arguments, aliases, comments) never enters the log.
 */
export const AUDIT_LOG = 'audit';

/** The most ids one AuditorQueried event lists; `idCount` says how many the query named in all. */
export const MAX_AUDITED_IDS = 100;

/** A GraphQL name (operation and field names), bounded so it cannot carry a paragraph. */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** A principal id the platform minted (`prn-` and a UUID), lowercase as envelopes carry ids. */
export const MINTED_PRINCIPAL_ID_PATTERN = /^prn-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const AuditedId = z.string().refine((s) => LOWERCASE_UUID_PATTERN.test(s) || MINTED_PRINCIPAL_ID_PATTERN.test(s), 'must be a lowercase UUID or prn- id');

export const AuditorQueriedV1 = z
  .object({
    operationType: z.enum(['query', 'mutation', 'subscription']),
    /** The client's name for the operation, when it has one that is a plain GraphQL name. */
    operationName: z.string().regex(GRAPHQL_NAME).nullable(),
    /** SHA-256 (hex) of the query text exactly as sent. */
    querySha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Root field names of the operation that runs (schema names, not aliases), first use first. */
    rootFields: z.array(z.string().regex(GRAPHQL_NAME)).max(100),
    /** Ids among the operation's argument and variable values, first seen first. */
    ids: z.array(AuditedId).max(MAX_AUDITED_IDS),
    idCount: z.number().int().min(0),
  })
  .strict();

export type AuditorQueriedData = z.infer<typeof AuditorQueriedV1>;
export type AuditorQueried = { type: 'AuditorQueried'; data: AuditorQueriedData };

export const auditContracts = new EventContractRegistry<never>().register({ type: 'AuditorQueried', version: 1, schema: AuditorQueriedV1 });
