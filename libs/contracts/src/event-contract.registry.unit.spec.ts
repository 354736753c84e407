import { z } from 'zod';
import { ContractErrorCode, ContractException } from './contract.exception';
import { EventContractRegistry } from './event-contract.registry';

function registry(): EventContractRegistry {
  return new EventContractRegistry()
    .register({ type: 'ReportAdded', version: 1, schema: z.object({ id: z.string(), text: z.string() }) })
    .register({ type: 'ReportAdded', version: 2, schema: z.object({ id: z.string(), body: z.string(), lang: z.string() }) })
    .register({ type: 'ReportAdded', version: 3, schema: z.object({ id: z.string(), body: z.string(), lang: z.string(), pages: z.number().int() }) })
    .registerUpcaster('ReportAdded', 1, (d) => {
      const v1 = d as { id: string; text: string };
      return { id: v1.id, body: v1.text, lang: 'und' };
    })
    .registerUpcaster('ReportAdded', 2, (d) => ({ ...(d as object), pages: 1 }));
}

function thrown(fn: () => unknown): ContractException {
  try {
    fn();
  } catch (err) {
    return err as ContractException;
  }
  throw new Error('expected an exception');
}

describe(EventContractRegistry.name, () => {
  describe('validate', () => {
    it('returns the parsed data of a valid event', () => {
      expect(registry().validate('ReportAdded', 1, { id: 'r1', text: 'ok' })).toEqual({ id: 'r1', text: 'ok' });
    });

    it('names every offending field', () => {
      const err = thrown(() => registry().validate('ReportAdded', 2, { id: 7, lang: 'en' }));
      expect(err.code).toBe(ContractErrorCode.InvalidEventData);
      expect(err.fields).toEqual(['data.id', 'data.body']);
      expect(err.message).toMatch(/data\.id: Expected string, received number/);
      expect(err.message).toMatch(/data\.body: Required/);
    });

    it('rejects unknown types and versions with distinct codes', () => {
      expect(thrown(() => registry().validate('Nope', 1, {})).code).toBe(ContractErrorCode.UnknownEventType);
      expect(thrown(() => registry().validate('ReportAdded', 9, {})).code).toBe(ContractErrorCode.UnknownSchemaVersion);
    });
  });

  describe('upcast', () => {
    it('chains upcasters from an old version to the current one', () => {
      expect(registry().upcast('ReportAdded', 1, { id: 'r1', text: 'hi' })).toEqual({
        version: 3,
        data: { id: 'r1', body: 'hi', lang: 'und', pages: 1 },
      });
    });

    it('leaves current data alone', () => {
      const data = { id: 'r', body: 'b', lang: 'en', pages: 2 };
      expect(registry().upcast('ReportAdded', 3, data)).toEqual({ version: 3, data });
    });

    it('fails loudly when a step is missing', () => {
      const r = new EventContractRegistry().register({ type: 'T', version: 1, schema: z.object({}) }).register({ type: 'T', version: 2, schema: z.object({}) });
      expect(thrown(() => r.upcast('T', 1, {})).code).toBe(ContractErrorCode.MissingUpcaster);
    });
  });

  describe('register', () => {
    it('refuses a second schema for the same type and version', () => {
      expect(thrown(() => registry().register({ type: 'ReportAdded', version: 1, schema: z.object({}) })).code).toBe(ContractErrorCode.DuplicateRegistration);
    });
  });
});
