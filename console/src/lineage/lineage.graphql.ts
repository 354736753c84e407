// The lineage view's and the home page's questions; `npm run console:codegen` types them.

export const NODE_FIELDS = /* GraphQL */ `
  fragment NodeFields on LineageNode {
    id
    type
    class
    label
    attrs
    states
    validFrom
  }
`;

export const LINEAGE_QUERY =
  /* GraphQL */ `
  query Lineage($id: ID!, $direction: LineageDirection!, $depth: Int!, $asOf: String) {
    lineage(id: $id, direction: $direction, depth: $depth, asOf: $asOf) {
      truncated
      nodes {
        ...NodeFields
      }
      edges {
        from
        to
        type
      }
    }
  }
` + NODE_FIELDS;

export const NODE_QUERY =
  /* GraphQL */ `
  query Node($id: ID!, $asOf: String) {
    node(id: $id, asOf: $asOf) {
      ...NodeFields
    }
  }
` + NODE_FIELDS;

export const PROVENANCE_QUERY =
  /* GraphQL */ `
  query Provenance($id: ID!, $asOf: String) {
    modelProvenance(modelVersionId: $id, asOf: $asOf) {
      modelVersion {
        ...NodeFields
      }
      baseModel {
        ...NodeFields
      }
      training {
        ...NodeFields
      }
      snapshot {
        ...NodeFields
      }
      assets
      subjects
      consents
      annotators
      reviewers
      approvers
      requestedBy
      deidentification {
        method
        assets
      }
      datasetVersions(first: 100) {
        totalCount
        edges {
          node {
            ...NodeFields
          }
        }
      }
      annotationSets(first: 100) {
        totalCount
        edges {
          node {
            ...NodeFields
          }
        }
      }
      evaluations(first: 100) {
        totalCount
        edges {
          node {
            ...NodeFields
          }
        }
      }
    }
  }
` + NODE_FIELDS;
