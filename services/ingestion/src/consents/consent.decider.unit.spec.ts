import { deciderSpec } from '@trellis/testing';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { evolveSubject, initialSubjectState, SubjectEvent, SubjectState } from '../subjects/subject.decider';
import { ConsentCommand, decideConsent } from './consent.decider';

const spec = deciderSpec<SubjectState, ConsentCommand, SubjectEvent>({ decide: decideConsent, evolve: evolveSubject, initialState: initialSubjectState });
const subjectId = '6f1c2b0e-4a5d-4c3b-9e8f-0a1b2c3d4e5f';
const consentId = '0b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4';
const registered: SubjectEvent = { type: 'SubjectRegistered', data: { subjectId } };
const record = (over: Partial<Extract<ConsentCommand, { type: 'RecordConsent' }>> = {}): ConsentCommand => ({
  type: 'RecordConsent',
  subjectId,
  consentId,
  status: 'active',
  decision: 'permit',
  purposes: ['research', 'model-training', 'research'],
  period: { start: '2026-01-01T00:00:00.000Z', end: null },
  sourceSha256: null,
  fhirVersion: null,
  ...over,
});
const recorded: SubjectEvent = {
  type: 'ConsentRecorded',
  data: {
    subjectId,
    consentId,
    status: 'active',
    decision: 'permit',
    purposes: ['model-training', 'research'],
    period: { start: '2026-01-01T00:00:00.000Z', end: null },
    sourceSha256: null,
    fhirVersion: null,
  },
};
const code = (expected: IngestionErrorCode) => (err: unknown) => {
  expect(err).toBeInstanceOf(IngestionException);
  expect((err as IngestionException).code).toBe(expected);
};

describe('decideConsent', () => {
  describe('RecordConsent', () => {
    it('records a consent with sorted, de-duplicated purposes', () => {
      spec.given([registered]).when(record()).then([recorded]);
    });

    it('refuses unknown purposes, naming them', () => {
      spec
        .given([registered])
        .when(record({ purposes: ['marketing'] }))
        .thenThrows((err) => {
          code(IngestionErrorCode.InvalidRequest)(err);
          expect((err as Error).message).toMatch(/not: marketing/);
        });
    });

    it('refuses a period that ends before it starts', () => {
      spec
        .given([registered])
        .when(record({ period: { start: '2026-02-01T00:00:00.000Z', end: '2026-01-01T00:00:00.000Z' } }))
        .thenThrows(code(IngestionErrorCode.InvalidRequest));
    });

    it('refuses consent for an unknown or erased subject', () => {
      spec.given([]).when(record()).thenThrows(code(IngestionErrorCode.SubjectNotFound));
      spec
        .given([registered, { type: 'SubjectErased', data: { subjectId, reason: 'gdpr-art17', assetCount: 0, blobsDeleted: 0 } }])
        .when(record())
        .thenThrows(code(IngestionErrorCode.SubjectErased));
    });
  });

  describe('WithdrawConsent', () => {
    it('withdraws every remaining purpose by default', () => {
      spec
        .given([registered, recorded])
        .when({ type: 'WithdrawConsent', subjectId, consentId, eraseData: true })
        .then([{ type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['model-training', 'research'], eraseData: true } }]);
    });

    it('withdraws only the purposes asked for', () => {
      spec
        .given([registered, recorded])
        .when({ type: 'WithdrawConsent', subjectId, consentId, purposes: ['research'], eraseData: false })
        .then([{ type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['research'], eraseData: false } }]);
    });

    it('refuses a purpose the consent never permitted, an unknown consent, and a repeat', () => {
      const withdrawn: SubjectEvent = { type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['model-training', 'research'], eraseData: false } };
      spec
        .given([registered, recorded])
        .when({ type: 'WithdrawConsent', subjectId, consentId, purposes: ['human-annotation'], eraseData: false })
        .thenThrows(code(IngestionErrorCode.InvalidRequest));
      spec.given([registered]).when({ type: 'WithdrawConsent', subjectId, consentId, eraseData: false }).thenThrows(code(IngestionErrorCode.ConsentNotFound));
      spec
        .given([registered, recorded, withdrawn])
        .when({ type: 'WithdrawConsent', subjectId, consentId, eraseData: false })
        .thenThrows(code(IngestionErrorCode.ConsentAlreadyWithdrawn));
    });

    it('still accepts a repeat that asks for deletion, so erasure stays reachable', () => {
      const withdrawn: SubjectEvent = { type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['model-training', 'research'], eraseData: false } };
      spec
        .given([registered, recorded, withdrawn])
        .when({ type: 'WithdrawConsent', subjectId, consentId, eraseData: true })
        .then([{ type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['model-training', 'research'], eraseData: true } }]);
    });
  });
});
