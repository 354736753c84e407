// A subject's consent impact; `npm run console:codegen` types it.

export const IMPACT_NODE_FIELDS = /* GraphQL */ `
  fragment ImpactNodeFields on LineageNode {
    id
    type
    label
    attrs
    states
    validFrom
  }
`;

export const CONSENT_IMPACT_QUERY =
  /* GraphQL */ `
  query ConsentImpact($subjectId: ID!) {
    consentImpact(subjectId: $subjectId) {
      subject {
        ...ImpactNodeFields
      }
      consents(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
      assets(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
      datasetVersions(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
      annotationSets(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
      snapshots(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
      trainingRuns(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
      modelVersions(first: 200) {
        totalCount
        edges {
          node {
            ...ImpactNodeFields
          }
        }
      }
    }
  }
` + IMPACT_NODE_FIELDS;
