import { ArgumentsHost, BadRequestException } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { DomainException, ErrorClass } from '@trellis/errors';
import { formatGraphqlError } from './graphql-error.formatter';
import { HttpExceptionFilter } from './http-exception.filter';

class RuleException extends DomainException<'ASSET_REJECTED' | 'NOT_FOUND' | 'BUSY'> {
  get errorClass(): ErrorClass {
    return this.code === 'NOT_FOUND' ? 'not_found' : this.code === 'BUSY' ? 'unavailable' : 'validation';
  }
}

function httpHost(): { host: ArgumentsHost; sent: { status?: number; body?: unknown; headers: Record<string, string> } } {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const res = {
    status: (s: number) => ((sent.status = s), { json: (b: unknown) => void (sent.body = b) }),
    setHeader: (name: string, value: string) => void (sent.headers[name] = value),
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe(HttpExceptionFilter.name, () => {
  describe('catch', () => {
    it('answers a domain error with its status, code, reason, message and fields', () => {
      const { host, sent } = httpHost();
      new HttpExceptionFilter().catch(new RuleException('ASSET_REJECTED', 'the JPEG ends early', ['file'], 'TRUNCATED'), host);
      expect(sent).toEqual({
        status: 400,
        headers: {},
        body: { error: 'ASSET_REJECTED', reason: 'TRUNCATED', message: 'the JPEG ends early', fields: ['file'] },
      });
    });

    it('uses the code as the reason when there is nothing finer', () => {
      const { host, sent } = httpHost();
      new HttpExceptionFilter().catch(new RuleException('NOT_FOUND', 'no such thing'), host);
      expect(sent).toEqual({ status: 404, headers: {}, body: { error: 'NOT_FOUND', reason: 'NOT_FOUND', message: 'no such thing' } });
    });

    it('answers an unavailable domain error with 503 and Retry-After', () => {
      const { host, sent } = httpHost();
      new HttpExceptionFilter().catch(new RuleException('BUSY', 'too many uploads'), host);
      expect(sent).toEqual({ status: 503, headers: { 'Retry-After': '1' }, body: { error: 'BUSY', reason: 'BUSY', message: 'too many uploads' } });
    });

    it('answers a database timeout (statement, lock, pool acquisition) with 503 DATABASE_BUSY and Retry-After, not 500', () => {
      const filter = new HttpExceptionFilter();
      (filter as unknown as { logger: { warn(): void } }).logger = { warn: () => undefined };
      for (const err of [
        Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
        { driverError: Object.assign(new Error('lock timeout'), { code: '55P03' }) },
        new Error('timeout exceeded when trying to connect'),
      ]) {
        const { host, sent } = httpHost();
        filter.catch(err, host);
        expect(sent.status).toBe(503);
        expect(sent.headers['Retry-After']).toMatch(/^\d+$/);
        expect(sent.body).toMatchObject({ error: 'DATABASE_BUSY' });
      }
    });

    it('gives Nest errors and unknown faults the same body shape', () => {
      const nest = httpHost();
      new HttpExceptionFilter().catch(new BadRequestException('bad json'), nest.host);
      expect(nest.sent).toEqual({ status: 400, headers: {}, body: { error: 'HTTP_400', reason: 'HTTP_400', message: 'bad json' } });
      const fault = httpHost();
      const filter = new HttpExceptionFilter();
      // The stack goes to the server log only, never into the body.
      (filter as unknown as { logger: { error(): void } }).logger = { error: () => undefined };
      filter.catch(new Error('/srv/secret/path exploded'), fault.host);
      expect(fault.sent).toEqual({ status: 500, headers: {}, body: { error: 'INTERNAL', reason: 'INTERNAL', message: 'internal error' } });
    });
  });
});

describe('formatGraphqlError', () => {
  it('puts the class, the code and the reason of a domain error into the extensions', () => {
    const formatted = formatGraphqlError({ message: 'x', path: ['asset'] }, new RuleException('ASSET_REJECTED', 'the JPEG ends early', ['file'], 'TRUNCATED'));
    expect(formatted).toEqual({
      message: 'the JPEG ends early',
      path: ['asset'],
      locations: undefined,
      extensions: { code: 'BAD_USER_INPUT', error: 'ASSET_REJECTED', reason: 'TRUNCATED', fields: ['file'] },
    });
  });

  it('maps a domain error that a plugin threw before execution (a GraphQLError without a path carrying it)', () => {
    const busy = new RuleException('BUSY', 'try again');
    const formatted = formatGraphqlError(
      { message: 'try again', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      new GraphQLError(busy.message, { originalError: busy }),
    );
    expect(formatted).toEqual({
      message: 'try again',
      locations: undefined,
      path: undefined,
      extensions: { code: 'SERVICE_UNAVAILABLE', error: 'BUSY', reason: 'BUSY' },
    });
  });
});
