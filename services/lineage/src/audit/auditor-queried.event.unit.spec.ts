import { createHash } from 'node:crypto';
import { Kind, OperationDefinitionNode, parse } from 'graphql';
import { AuditorQueriedV1, MAX_AUDITED_IDS } from '@trellis/contracts';
import { auditorQueriedData } from './auditor-queried.event';

const UUID_A = '0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b';
const UUID_B = '0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6c';
const PRINCIPAL = 'prn-0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6d';

function describeQuery(source: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(source);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName)! : operations[0];
  return auditorQueriedData({ document, operation, source, variables });
}

describe('auditorQueriedData', () => {
  it('keeps the operation, the hash of the text, the root field names and the ids, and satisfies the contract', () => {
    const source = `query FindThings($actor: String) {
      trail: auditTrail(stream: "dataset-${UUID_A.toUpperCase()}", actor: $actor, type: "Mr Smith's note") { edges { cursor } }
      verifyAuditChain(log: "audit") { ok }
    }`;
    const data = describeQuery(source, { actor: PRINCIPAL });
    expect(data).toEqual({
      operationType: 'query',
      operationName: 'FindThings',
      querySha256: createHash('sha256').update(source).digest('hex'),
      rootFields: ['auditTrail', 'verifyAuditChain'],
      ids: [UUID_A, PRINCIPAL],
      idCount: 2,
    });
    expect(AuditorQueriedV1.safeParse(data).success).toBe(true);
  });

  it('never keeps free text: string arguments, aliases and comments are left out', () => {
    const source = `# asked for by Jane Doe
      query { johnsAlias: eventLog(log: "notes about Jane Doe ${UUID_B}") { position } }`;
    const text = JSON.stringify(describeQuery(source, { unused: 'Jane Doe, 1 Main Street' }));
    expect(text).not.toMatch(/Jane|Doe|john|Main|notes/i);
    expect(JSON.parse(text).ids).toEqual([UUID_B]);
  });

  it('finds root fields and ids through fragments, inline fragments and variable objects and lists', () => {
    const source = `query Q($ids: [String!], $filter: Filter) { ...Roots ... on Query { eventLogs { log } } }
      fragment Roots on Query { verifyAuditChain(log: "${UUID_A}") { ok } }`;
    const data = describeQuery(source, { ids: [UUID_B], filter: { nested: { principal: PRINCIPAL } } });
    expect(data.rootFields).toEqual(['verifyAuditChain', 'eventLogs']);
    expect(data.ids).toEqual([UUID_A, UUID_B, PRINCIPAL]);
  });

  it('describes the operation that runs, not the other operations of the document', () => {
    const source = `query A { eventLogs { log } } query B { verifyAuditChain(log: "x") { ok } }`;
    expect(describeQuery(source, undefined, 'B')).toMatchObject({ operationName: 'B', rootFields: ['verifyAuditChain'] });
  });

  it('keeps at most MAX_AUDITED_IDS ids and counts them all, each once', () => {
    const ids = Array.from({ length: MAX_AUDITED_IDS + 20 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const data = describeQuery('query($ids: [String!]) { eventLogs { log } }', { ids: [...ids, ...ids] });
    expect(data.ids).toEqual(ids.slice(0, MAX_AUDITED_IDS));
    expect(data.idCount).toBe(ids.length);
    expect(AuditorQueriedV1.safeParse(data).success).toBe(true);
  });

  it('drops an operation name in which the personal-data check finds something (a record number)', () => {
    expect(describeQuery('query patient12345678 { eventLogs { log } }').operationName).toBeNull();
    expect(describeQuery('{ eventLogs { log } }').operationName).toBeNull();
  });
});
