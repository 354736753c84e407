import { deciderSpec } from '@trellis/testing';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { decideSubject, evolveSubject, initialSubjectState, permittedPurposes, SubjectCommand, SubjectEvent, SubjectState } from './subject.decider';

const spec = deciderSpec<SubjectState, SubjectCommand, SubjectEvent>({ decide: decideSubject, evolve: evolveSubject, initialState: initialSubjectState });
const subjectId = '6f1c2b0e-4a5d-4c3b-9e8f-0a1b2c3d4e5f';
const consentId = '0b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4';
const registered: SubjectEvent = { type: 'SubjectRegistered', data: { subjectId } };
const erased: SubjectEvent = { type: 'SubjectErased', data: { subjectId, reason: 'gdpr-art17', assetCount: 2, blobsDeleted: 6 } };
const consent = (over: Partial<Extract<SubjectEvent, { type: 'ConsentRecorded' }>['data']> = {}): SubjectEvent => ({
  type: 'ConsentRecorded',
  data: {
    subjectId,
    consentId,
    status: 'active',
    decision: 'permit',
    purposes: ['model-training', 'research'],
    period: { start: null, end: null },
    sourceSha256: null,
    fhirVersion: null,
    ...over,
  },
});
const code = (expected: IngestionErrorCode) => (err: unknown) => {
  expect(err).toBeInstanceOf(IngestionException);
  expect((err as IngestionException).code).toBe(expected);
};
const stateOf = (events: SubjectEvent[]) => events.reduce(evolveSubject, initialSubjectState);

describe('decideSubject', () => {
  describe('RegisterSubject', () => {
    it('registers a new subject under its pseudonymous id only', () => {
      spec.given([]).when({ type: 'RegisterSubject', subjectId }).then([registered]);
    });

    it('refuses to register the same id twice', () => {
      spec.given([registered]).when({ type: 'RegisterSubject', subjectId }).thenThrows(code(IngestionErrorCode.SubjectAlreadyRegistered));
    });
  });

  describe('EraseSubject', () => {
    const erase: SubjectCommand = { type: 'EraseSubject', subjectId, reason: 'gdpr-art17', assetCount: 2, blobsDeleted: 6 };

    it('records the erasure with counts, not content', () => {
      spec.given([registered]).when(erase).then([erased]);
    });

    it('answers not found for an unknown subject and conflict for an erased one', () => {
      spec.given([]).when(erase).thenThrows(code(IngestionErrorCode.SubjectNotFound));
      spec.given([registered, erased]).when(erase).thenThrows(code(IngestionErrorCode.SubjectErased));
    });
  });
});

describe('permittedPurposes', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('lists the purposes of active permits', () => {
    expect(permittedPurposes(stateOf([registered, consent()]), now)).toEqual(['model-training', 'research']);
  });

  it('drops withdrawn purposes, denied purposes, and consents outside their period or not active', () => {
    const withdrawn: SubjectEvent = { type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['research'], eraseData: false } };
    expect(permittedPurposes(stateOf([registered, consent(), withdrawn]), now)).toEqual(['model-training']);
    const deny = consent({ consentId: '1b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4', decision: 'deny', purposes: ['model-training'] });
    expect(permittedPurposes(stateOf([registered, consent(), deny]), now)).toEqual(['research']);
    expect(permittedPurposes(stateOf([registered, consent({ period: { start: '2027-01-01T00:00:00.000Z', end: null } })]), now)).toEqual([]);
    expect(permittedPurposes(stateOf([registered, consent({ period: { start: null, end: '2026-01-01T00:00:00.000Z' } })]), now)).toEqual([]);
    expect(permittedPurposes(stateOf([registered, consent({ status: 'inactive' })]), now)).toEqual([]);
  });

  it('permits nothing once the subject is erased', () => {
    expect(permittedPurposes(stateOf([registered, consent(), erased]), now)).toEqual([]);
  });
});
