import { isDatabaseUnavailable } from './database-unavailable';

describe('isDatabaseUnavailable', () => {
  it('is true for the errors of a database that went away (issue 11 item 9)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:54329'), { code: 'ECONNREFUSED' });
    const released = new (class QueryRunnerAlreadyReleasedError extends Error {
      override name = 'QueryRunnerAlreadyReleasedError';
    })();
    for (const err of [
      refused,
      new AggregateError([refused, refused]),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('terminating connection because of crash of another server process'), { code: '57P02' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('query failed'), { driverError: new Error('Connection terminated unexpectedly') }),
      released,
    ]) {
      expect(isDatabaseUnavailable(err)).toBe(true);
    }
  });

  it('is false for a failed statement, a constraint, or anything else', () => {
    for (const err of [
      Object.assign(new Error('duplicate key value'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      new Error('boom'),
      new AggregateError([]),
      'text',
      null,
      undefined,
    ]) {
      expect(isDatabaseUnavailable(err)).toBe(false);
    }
  });
});
