import { ArgumentsHost, BadRequestException } from '@nestjs/common';
import { DomainException, ErrorClass } from '@trellis/errors';
import { formatGraphqlError } from './graphql-error.formatter';
import { HttpExceptionFilter } from './http-exception.filter';

class RuleException extends DomainException<'ASSET_REJECTED' | 'NOT_FOUND'> {
  get errorClass(): ErrorClass {
    return this.code === 'NOT_FOUND' ? 'not_found' : 'validation';
  }
}

function httpHost(): { host: ArgumentsHost; sent: { status?: number; body?: unknown } } {
  const sent: { status?: number; body?: unknown } = {};
  const res = { status: (s: number) => ((sent.status = s), { json: (b: unknown) => void (sent.body = b) }) };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe(HttpExceptionFilter.name, () => {
  describe('catch', () => {
    it('answers a domain error with its status, code, reason, message and fields', () => {
      const { host, sent } = httpHost();
      new HttpExceptionFilter().catch(new RuleException('ASSET_REJECTED', 'the JPEG ends early', ['file'], 'TRUNCATED'), host);
      expect(sent).toEqual({ status: 400, body: { error: 'ASSET_REJECTED', reason: 'TRUNCATED', message: 'the JPEG ends early', fields: ['file'] } });
    });

    it('uses the code as the reason when there is nothing finer', () => {
      const { host, sent } = httpHost();
      new HttpExceptionFilter().catch(new RuleException('NOT_FOUND', 'no such thing'), host);
      expect(sent).toEqual({ status: 404, body: { error: 'NOT_FOUND', reason: 'NOT_FOUND', message: 'no such thing' } });
    });

    it('gives Nest errors and unknown faults the same body shape', () => {
      const nest = httpHost();
      new HttpExceptionFilter().catch(new BadRequestException('bad json'), nest.host);
      expect(nest.sent).toEqual({ status: 400, body: { error: 'HTTP_400', reason: 'HTTP_400', message: 'bad json' } });
      const fault = httpHost();
      const filter = new HttpExceptionFilter();
      // The stack goes to the server log only, never into the body.
      (filter as unknown as { logger: { error(): void } }).logger = { error: () => undefined };
      filter.catch(new Error('/srv/secret/path exploded'), fault.host);
      expect(fault.sent).toEqual({ status: 500, body: { error: 'INTERNAL', reason: 'INTERNAL', message: 'internal error' } });
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
});
