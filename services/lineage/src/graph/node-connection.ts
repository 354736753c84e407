import { ArgsType, Field, Int, ObjectType } from '@nestjs/graphql';
import { PageInfo } from '../audit/audit.models';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { LineageNode } from './lineage.models';

export const NODE_PAGE_DEFAULT = 100;
export const NODE_PAGE_MAX = 1000;

@ObjectType()
export class LineageNodeEdge {
  @Field({ description: 'Opaque; pass it as `after` to continue after this node.' }) cursor!: string;
  @Field(() => LineageNode) node!: LineageNode;
}

@ObjectType({ description: 'A page of nodes, ordered by id (Relay connection).' })
export class LineageNodeConnection {
  @Field(() => [LineageNodeEdge]) edges!: LineageNodeEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many nodes the whole list has.' }) totalCount!: number;
}

@ArgsType()
export class NodePageArgs {
  @Field(() => Int, { nullable: true, defaultValue: NODE_PAGE_DEFAULT, description: `1 to ${NODE_PAGE_MAX}.` }) first?: number | null;
  @Field(() => String, { nullable: true, description: "The previous page's pageInfo.endCursor." }) after?: string | null;
}

const cursorOf = (id: string) => Buffer.from(`node:${id}`, 'utf8').toString('base64url');

function idAfter(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('node:') || cursorOf(decoded.slice(5)) !== cursor)
    throw new LineageException(LineageErrorCode.InvalidQuery, 'after must be a cursor this list returned (pageInfo.endCursor)', ['after'], 'INVALID_CURSOR');
  return decoded.slice(5);
}

/**
 * One page of a list of nodes, by id: `after` is the last id seen, so a page stays right while
 * the list grows between requests (new nodes land in their place by id, none is repeated).
 */
export function nodePage(nodes: LineageNode[], { first, after }: NodePageArgs): LineageNodeConnection {
  const size = first ?? NODE_PAGE_DEFAULT;
  if (!Number.isInteger(size) || size < 1 || size > NODE_PAGE_MAX)
    throw new LineageException(
      LineageErrorCode.InvalidQuery,
      `first must be between 1 and ${NODE_PAGE_MAX} (ask for the next page with after: pageInfo.endCursor)`,
      ['first'],
      'PAGE_TOO_LARGE',
    );
  const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const last = after === null || after === undefined ? null : idAfter(after);
  const from = last === null ? 0 : sorted.findIndex((n) => n.id > last);
  const rest = from < 0 ? [] : sorted.slice(from);
  const edges = rest.slice(0, size).map((node) => ({ cursor: cursorOf(node.id), node }));
  return {
    edges,
    totalCount: sorted.length,
    pageInfo: { hasNextPage: rest.length > size, endCursor: edges.at(-1)?.cursor ?? null, startCursor: edges[0]?.cursor ?? null },
  };
}
