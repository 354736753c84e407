// The run page's question to the audit trail: every progress report of a run (its whole loss
// curve). Only auditors may read the trail; others see the curve grow from the run's last
// progress while the page is open. `npm run console:codegen` types it.

export const RUN_PROGRESS_QUERY = /* GraphQL */ `
  query RunProgress($stream: String!, $after: String) {
    auditTrail(stream: $stream, type: "TrainingProgressed", first: 1000, after: $after) {
      edges {
        node {
          type
          data
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;
