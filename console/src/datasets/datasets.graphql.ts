// The dataset pages' questions to the lineage graph and the audit trail; `npm run console:codegen` types them.

/** A version's members two hops up: their curated assets and the de-identification that made each. */
export const DATASET_VERSION_SOURCES_QUERY = /* GraphQL */ `
  query DatasetVersionSources($id: ID!) {
    lineage(id: $id, direction: UPSTREAM, depth: 2) {
      truncated
      nodes {
        id
        type
        label
        attrs
        states
      }
    }
  }
`;

/** Uploads ingestion refused, newest first: they never became assets, so only the audit trail holds them. */
export const REJECTED_UPLOADS_QUERY = /* GraphQL */ `
  query RejectedUploads($first: Int!, $after: String) {
    auditTrail(type: "AssetRejected", first: $first, after: $after) {
      edges {
        node {
          eventId
          log
          position
          occurredAt
          actorId
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
