import { Field, Int, ObjectType } from '@nestjs/graphql';
import { canonicalJson, EventEnvelope } from '@trellis/contracts';

@ObjectType({ description: 'One event of a log, as stored (personal data never enters events).' })
export class AuditEvent {
  @Field() eventId!: string;
  @Field() type!: string;
  @Field(() => Int) schemaVersion!: number;
  @Field() log!: string;
  @Field() streamId!: string;
  @Field(() => Int) streamVersion!: number;
  @Field(() => Int) position!: number;
  @Field() occurredAt!: string;
  @Field() actorId!: string;
  @Field() actorRole!: string;
  @Field() correlationId!: string;
  @Field(() => String, { nullable: true }) causationId!: string | null;
  @Field({ description: 'The event data as canonical JSON text.' }) data!: string;
  @Field() prevHash!: string;
  @Field() hash!: string;
}

/** An event as stored (never upcast), so that an auditor can recompute every hash from the answer. */
export function toAuditEvent(e: EventEnvelope): AuditEvent {
  const { actor, data, ...rest } = e;
  return { ...rest, actorId: actor.id, actorRole: actor.role, data: canonicalJson(data) };
}

@ObjectType()
export class LogHead {
  @Field() log!: string;
  @Field(() => Int) position!: number;
}

@ObjectType({ description: 'A position where a hash chain breaks, and why.' })
export class ChainBreak {
  @Field(() => Int) position!: number;
  @Field() reason!: string;
}

@ObjectType({ description: 'Result of recomputing a log hash chain.' })
export class ChainVerification {
  @Field() log!: string;
  @Field() ok!: boolean;
  @Field(() => Int, { description: 'Events checked.' }) checked!: number;
  @Field(() => Int, { nullable: true, description: 'Last position, when the chain is intact.' }) lastPosition?: number;
  @Field(() => Int, { nullable: true, description: 'First position where the chain breaks.' }) brokenAt?: number;
  @Field(() => String, { nullable: true, description: 'Why the chain breaks at brokenAt.' }) reason?: string;
  @Field(() => [ChainBreak], { description: 'Every position where the chain breaks, in log order (at most 1000; empty when intact).' })
  broken!: ChainBreak[];
  @Field(() => Int, { description: 'How many breaks there are in all.' }) brokenCount!: number;
}

@ObjectType({ description: 'Relay page information: whether more edges follow, and the cursor to ask for them with.' })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass it as `after` for the next page (null when the page is empty).' })
  endCursor!: string | null;
  @Field(() => String, { nullable: true, description: 'Cursor of the first edge (null when the page is empty).' }) startCursor!: string | null;
}

@ObjectType()
export class AuditTrailEdge {
  @Field({ description: 'Opaque; pass it as `after` to continue after this event.' }) cursor!: string;
  @Field(() => AuditEvent) node!: AuditEvent;
}

@ObjectType({ description: 'Events of every log, newest first (by occurredAt, then log and position, descending).' })
export class AuditTrailConnection {
  @Field(() => [AuditTrailEdge]) edges!: AuditTrailEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
