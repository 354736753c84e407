import { Reflector } from '@nestjs/core';
import { ROLES_KEY } from '@trellis/auth';
import { displayUrl, parseDeliveryQuery, parseWebhookRegistration, webhookIdProblem } from './webhook-request';
import { WebhooksController } from './webhooks.controller';

const fieldsOf = (body: unknown) => parseWebhookRegistration(body).problems.map((p) => p.field);
const messagesOf = (body: unknown) => parseWebhookRegistration(body).problems.map((p) => p.message);

describe('webhook requests', () => {
  describe('parseWebhookRegistration', () => {
    it('accepts an https URL with known event types, sorted and without duplicates', () => {
      expect(parseWebhookRegistration({ url: 'https://hooks.example.org/trellis?x=1', eventTypes: ['PromotionApproved', 'AliasMoved', 'AliasMoved'] })).toEqual(
        {
          request: { url: 'https://hooks.example.org/trellis?x=1', eventTypes: ['AliasMoved', 'PromotionApproved'] },
          problems: [],
        },
      );
    });

    it("keeps '*' alone when it is asked for", () => {
      expect(parseWebhookRegistration({ url: 'http://127.0.0.1:9000/', eventTypes: ['AliasMoved', '*'] }).request?.eventTypes).toEqual(['*']);
    });

    it.each([
      ['another scheme', 'ftp://files.example.org/x'],
      ['javascript:', 'javascript:alert(1)'],
      ['file:', 'file:///etc/passwd'],
      ['a relative URL', '/hooks'],
      ['a user name and password', 'https://user:pass@example.org/hook'],
      ['a user name', 'https://token@example.org/hook'],
      ['a fragment', 'https://example.org/hook#frag'],
      ['a space', 'https://example.org/ho ok'],
      ['too many characters', `https://example.org/${'a'.repeat(2100)}`],
      ['nothing', ''],
    ])('refuses a URL with %s, naming body.url without quoting it', (_, url) => {
      const { request, problems } = parseWebhookRegistration({ url, eventTypes: ['AliasMoved'] });
      expect(request).toBeNull();
      expect(problems.map((p) => p.field)).toEqual(expect.arrayContaining(['body.url']));
      for (const p of problems) if (url !== '') expect(p.message).not.toContain(url);
    });

    it('refuses an unknown event type by its index, without quoting it', () => {
      const { problems } = parseWebhookRegistration({ url: 'https://example.org/h', eventTypes: ['AliasMoved', 'SecretLeaked'] });
      expect(problems.map((p) => p.field)).toEqual(['body.eventTypes.1']);
      expect(problems[0].message).not.toContain('SecretLeaked');
      expect(problems[0].message).toContain('ModelVersionRegistered');
    });

    it('names every shape problem at once, and unknown fields without repeating them', () => {
      expect(fieldsOf(undefined)).toEqual(['body']);
      expect(fieldsOf('a string')).toEqual(['body']);
      expect(fieldsOf({})).toEqual(['body.url', 'body.eventTypes']);
      expect(fieldsOf({ url: 5, eventTypes: [] })).toEqual(['body.url', 'body.eventTypes']);
      expect(fieldsOf({ url: 'https://example.org', eventTypes: [7] })).toEqual(['body.eventTypes.0']);
      expect(fieldsOf({ url: 'https://example.org', eventTypes: Array(51).fill('AliasMoved') })).toEqual(['body.eventTypes']);
      expect(fieldsOf({ url: 'https://example.org', eventTypes: ['*'], secretToken: 'abc' })).toEqual(['body']);
      expect(messagesOf({ url: 'https://example.org', eventTypes: ['*'], secretToken: 'abc' })[0]).not.toContain('secretToken');
    });
  });

  describe('displayUrl', () => {
    it('shows origin and path, and only that a query string exists', () => {
      expect(displayUrl('https://hooks.example.org:8443/in/trellis?token=s3cret&x=1')).toBe('https://hooks.example.org:8443/in/trellis?…');
      expect(displayUrl('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/');
    });
  });

  describe('parseDeliveryQuery', () => {
    it('defaults, accepts and refuses by field', () => {
      expect(parseDeliveryQuery(undefined, undefined)).toEqual({ query: { limit: 50, status: null }, problems: [] });
      expect(parseDeliveryQuery('10', 'failed').query).toEqual({ limit: 10, status: 'failed' });
      expect(parseDeliveryQuery('0', 'lost').problems.map((p) => p.field)).toEqual(['query.limit', 'query.status']);
      expect(parseDeliveryQuery(['1', '2'], ['pending']).problems.map((p) => p.field)).toEqual(['query.limit', 'query.status']);
      expect(parseDeliveryQuery('501', undefined).problems.map((p) => p.field)).toEqual(['query.limit']);
      expect(parseDeliveryQuery('1e2', undefined).problems.map((p) => p.field)).toEqual(['query.limit']);
    });
  });

  describe('webhookIdProblem', () => {
    it('accepts a UUID and names params.id otherwise', () => {
      expect(webhookIdProblem('0190b7c2-0000-7000-8000-000000000001')).toBeNull();
      expect(webhookIdProblem('../etc')).toEqual({ field: 'params.id', message: 'a UUID' });
    });
  });
});

describe(WebhooksController.name, () => {
  it('lets admins only call every handler', () => {
    const reflector = new Reflector();
    const proto = WebhooksController.prototype as unknown as Record<string, () => unknown>;
    const handlers = Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor');
    expect(handlers.sort()).toEqual(['deliveries', 'disable', 'list', 'register']);
    for (const name of handlers) expect(reflector.get(ROLES_KEY, proto[name])).toEqual(['admin']);
  });
});
