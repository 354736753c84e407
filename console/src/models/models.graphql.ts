// The model page's alias history; `npm run console:codegen` types it.

export const ALIAS_HISTORY_QUERY = /* GraphQL */ `
  query AliasHistory($model: String!, $alias: String, $at: String) {
    aliasHistory(model: $model, alias: $alias, at: $at) {
      model
      at
      holders {
        alias
        version
        movedAt
      }
      moves {
        alias
        kind
        version
        previousVersion
        modelVersionId
        promotionId
        movedBy
        reason
        movedAt
        position
      }
    }
  }
`;
