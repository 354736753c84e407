import { z } from 'zod';
import { Actor, AppendContext, EventContractRegistry, NewEvent } from '@trellis/contracts';

/**
 * Contracts used only by the event-store tests: `ThingRecorded` exists in two versions
 * (v1 had `label`, v2 renamed it to `name` and added `tags`), to exercise upcasting.
 */
export function testContracts(): EventContractRegistry {
  return new EventContractRegistry()
    .register({ type: 'ThingRecorded', version: 1, schema: z.object({ thingId: z.string(), label: z.string() }).strict() })
    .register({
      type: 'ThingRecorded',
      version: 2,
      schema: z.object({ thingId: z.string(), name: z.string().min(1), tags: z.array(z.string()) }).strict(),
    })
    .registerUpcaster('ThingRecorded', 1, (d) => {
      const v1 = d as { thingId: string; label: string };
      return { thingId: v1.thingId, name: v1.label, tags: [] };
    })
    .register({ type: 'ThingCounted', version: 1, schema: z.object({ thingId: z.string(), count: z.number().int().nonnegative() }).strict() });
}

export const testActor: Actor = { id: 'principal-test', role: 'admin' };
export const testContext: AppendContext = { actor: testActor };

/** Builder-style factory for test events, the one style used across the suites. */
export class ThingEventBuilder {
  private count = 0;
  constructor(private readonly thingId = 'thing-1') {}

  recorded(name = 'a thing', tags: string[] = []): NewEvent {
    return { type: 'ThingRecorded', data: { thingId: this.thingId, name, tags } };
  }

  counted(count = ++this.count): NewEvent {
    return { type: 'ThingCounted', data: { thingId: this.thingId, count } };
  }
}
