// The audit page's questions; `npm run console:codegen` types them.

export const AUDIT_TRAIL_QUERY = /* GraphQL */ `
  query AuditTrail($first: Int!, $after: String, $stream: String, $actor: String, $type: String, $from: String, $to: String) {
    auditTrail(first: $first, after: $after, stream: $stream, actor: $actor, type: $type, from: $from, to: $to) {
      edges {
        cursor
        node {
          eventId
          log
          position
          type
          streamId
          streamVersion
          actorId
          actorRole
          occurredAt
          correlationId
          causationId
          data
          hash
          prevHash
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export const EVENT_LOGS_QUERY = /* GraphQL */ `
  query EventLogs {
    eventLogs {
      log
      position
    }
  }
`;

export const VERIFY_AUDIT_CHAIN_QUERY = /* GraphQL */ `
  query VerifyAuditChain($log: String!) {
    verifyAuditChain(log: $log) {
      log
      ok
      checked
      lastPosition
      brokenAt
      brokenCount
      reason
      broken {
        position
        reason
      }
    }
  }
`;
