import { createHash } from 'node:crypto';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { mapFhirConsent, TRELLIS_PURPOSE_SYSTEM, V3_ACT_REASON } from './fhir-consent.mapper';

/** Trimmed from the FHIR R4 example "consent-example-notThem" / the R5 research consent examples. */
const r4 = (over: Record<string, unknown> = {}) => ({
  resourceType: 'Consent',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '57016-8' }] }],
  patient: { reference: 'Patient/f001' },
  policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
  provision: {
    type: 'permit',
    period: { start: '2026-01-01', end: '2030-12-31T23:59:59+01:00' },
    purpose: [
      { system: V3_ACT_REASON, code: 'HRESCH' },
      { system: TRELLIS_PURPOSE_SYSTEM, code: 'model-training' },
    ],
  },
  ...over,
});
const r5 = (over: Record<string, unknown> = {}) => ({
  resourceType: 'Consent',
  status: 'active',
  subject: { reference: 'Patient/example' },
  decision: 'deny',
  period: { start: '2026-03-01T00:00:00Z' },
  provision: [{ purpose: [{ system: TRELLIS_PURPOSE_SYSTEM, code: 'human-annotation' }] }],
  sourceAttachment: [{ contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 signed form').toString('base64') }],
  ...over,
});
const refused = (input: unknown, pattern: RegExp) => {
  let thrown: unknown;
  try {
    mapFhirConsent(input);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(IngestionException);
  expect((thrown as IngestionException).code).toBe(IngestionErrorCode.InvalidFhirConsent);
  expect((thrown as Error).message).toMatch(pattern);
};

describe('mapFhirConsent', () => {
  it('maps an R4 Consent: provision.type, purpose codings, a partial-date period, the resource hash as source', () => {
    const resource = r4();
    const mapped = mapFhirConsent(resource);
    expect(mapped).toEqual({
      status: 'active',
      decision: 'permit',
      purposes: ['model-training', 'research'],
      period: { start: '2026-01-01T00:00:00.000Z', end: '2030-12-31T22:59:59.000Z' },
      sourceSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      fhirVersion: 'R4',
    });
    // The same resource with keys in another order hashes the same (canonical JSON).
    const reordered = Object.fromEntries(Object.entries(resource).reverse());
    expect(mapFhirConsent(reordered).sourceSha256).toBe(mapped.sourceSha256);
  });

  it('maps an R5 Consent: decision, provision list, top-level period, the attachment bytes as source', () => {
    expect(mapFhirConsent(r5())).toEqual({
      status: 'active',
      decision: 'deny',
      purposes: ['human-annotation'],
      period: { start: '2026-03-01T00:00:00.000Z', end: null },
      sourceSha256: createHash('sha256').update('%PDF-1.4 signed form').digest('hex'),
      fhirVersion: 'R5',
    });
  });

  it('refuses purpose codings it cannot map, naming them and the known ones', () => {
    refused(r4({ provision: { type: 'permit', purpose: [{ system: V3_ACT_REASON, code: 'TREAT' }] } }), /v3-ActReason\|TREAT.*known/);
  });

  it('refuses what it cannot interpret: no purpose, nested provisions, a bad decision, a bad status, mixed versions', () => {
    refused(r4({ provision: { type: 'permit' } }), /no purpose/);
    refused(r4({ provision: { type: 'permit', purpose: [{ system: V3_ACT_REASON, code: 'HRESCH' }], provision: [{ type: 'deny' }] } }), /nested provisions/);
    refused(r4({ provision: { type: 'maybe', purpose: [{ system: V3_ACT_REASON, code: 'HRESCH' }] } }), /provision.type must be "permit" or "deny"/);
    refused(r5({ status: 'signed' }), /status must be one of/);
    refused({ ...r4(), decision: 'permit' }, /mixes R4 fields/);
    refused({ resourceType: 'Patient' }, /resourceType must be "Consent"/);
    refused(r5({ period: { start: '2026-13-45T00:00:00' } }), /not a FHIR dateTime/);
  });
});
