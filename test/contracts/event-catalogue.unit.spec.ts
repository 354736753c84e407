import { readFileSync } from 'node:fs';
import { z } from 'zod';
import * as contracts from '@trellis/contracts';
import { EventContractRegistry } from '@trellis/contracts';
import { CATALOGUE_LOGS, EVENTS_FILE, registeredContracts, renderEventCatalogue } from '../../scripts/event-catalogue';

/** Where two texts first differ, for a failure message that says what changed. */
function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i === -1 ? a.length : i;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end of file)')}, code ${JSON.stringify(b[at] ?? '(end of file)')}`;
}

function toyRegistry() {
  return new EventContractRegistry<never>()
    .register({ type: 'ThingMade', version: 1, schema: z.object({ name: z.string() }).strict() })
    .register({ type: 'ThingMade', version: 2, schema: z.object({ name: z.string(), size: z.number().int() }).strict().describe('A thing was made.') })
    .registerUpcaster('ThingMade', 1, (d) => ({ ...(d as object), size: 0 }))
    .register({ type: 'ThingBroken', version: 1, schema: z.string().max(10) });
}

describe('docs/events.md (issue 17)', () => {
  it('is the catalogue the registered contracts define', () => {
    const committed = readFileSync(EVENTS_FILE, 'utf8');
    const generated = renderEventCatalogue();
    if (generated !== committed) {
      throw new Error(`docs/events.md is out of date: run npm run docs:events (${firstDifference(committed, generated)})`);
    }
  });

  it('covers every log and every contract registry @trellis/contracts exports', () => {
    const exported = Object.entries(contracts);
    const logs = exported.filter(([name]) => /^[A-Z_]+_LOG$/.test(name)).map(([, value]) => value);
    const registries = exported.filter(([, value]) => value instanceof EventContractRegistry).map(([name, value]) => [name, value]);
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) expect(CATALOGUE_LOGS.map((l) => l.log)).toContain(log);
    for (const [name, registry] of registries) {
      expect([name, CATALOGUE_LOGS.some((l) => l.contracts === registry)]).toEqual([name, true]);
    }
  });
});

describe(registeredContracts.name, () => {
  it('lists a registry in the order it was registered, with the versions an upcaster reads on', () => {
    expect(registeredContracts(toyRegistry()).map(({ type, version, upcastTo }) => ({ type, version, upcastTo }))).toEqual([
      { type: 'ThingMade', version: 1, upcastTo: 2 },
      { type: 'ThingMade', version: 2, upcastTo: undefined },
      { type: 'ThingBroken', version: 1, upcastTo: undefined },
    ]);
  });

  it('leaves the registry it reads as it was', () => {
    const registry = toyRegistry();
    registeredContracts(registry);
    expect(registry.types()).toEqual(['ThingBroken', 'ThingMade']);
    expect(registry.upcast('ThingMade', 1, { name: 'a' })).toEqual({ version: 2, data: { name: 'a', size: 0 } });
  });
});

describe(renderEventCatalogue.name, () => {
  const doc = renderEventCatalogue([{ log: 'things', contracts: toyRegistry(), kafkaPayload: 'envelope' }]);

  it('gives the log its topic and each event its version, upcast, description and fields', () => {
    expect(doc).toContain('| [`things`](#log-things) | `trellis.things.v1` | 2 |');
    expect(doc).toContain('## Log `things`\n\nKafka topic `trellis.things.v1`; a message is the event with its envelope.');
    expect(doc).toContain('### ThingMade v1\n\nRead as v2 (upcast).\n\nData: an object (no other keys).');
    expect(doc).toContain(
      [
        '### ThingMade v2',
        '',
        'A thing was made.',
        '',
        'Data: an object (no other keys).',
        '',
        '| Field | Type | Presence | Constraints |',
        '| --- | --- | --- | --- |',
        '| `name` | string | required |  |',
        '| `size` | integer | required |  |',
      ].join('\n'),
    );
    expect(doc.indexOf('### ThingMade v2')).toBeLessThan(doc.indexOf('### ThingBroken v1'));
  });

  it('shows data that is not an object as one row', () => {
    expect(doc).toContain(
      '### ThingBroken v1\n\n| Field | Type | Presence | Constraints |\n| --- | --- | --- | --- |\n| (data) | string | required | length <= 10 |',
    );
  });

  it('escapes a pipe in a pattern so that it stays in its cell', () => {
    const piped = new EventContractRegistry<never>().register({ type: 'Piped', version: 1, schema: z.object({ id: z.string().regex(/^(a|b)$/) }) });
    expect(renderEventCatalogue([{ log: 'pipes', contracts: piped, kafkaPayload: 'data' }])).toContain('| `id` | string | required | pattern `^(a\\|b)$` |');
  });

  it('refuses an event type registered for two logs', () => {
    expect(() =>
      renderEventCatalogue([
        { log: 'one', contracts: toyRegistry(), kafkaPayload: 'envelope' },
        { log: 'two', contracts: toyRegistry(), kafkaPayload: 'envelope' },
      ]),
    ).toThrow('ThingMade is registered for two logs, one and two');
  });

  it('writes the same text every time', () => {
    expect(renderEventCatalogue()).toBe(renderEventCatalogue());
  });
});
