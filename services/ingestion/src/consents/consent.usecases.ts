import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { Actor, CONSENT_PURPOSES, CONSENT_STATUSES, INGESTION_LOG, ingestionContracts, isoDateTime, isUuid } from '@trellis/contracts';
import { NEW_ID, NewId, withTransaction } from '@trellis/common';
import { handleCommand, PostgresEventStore } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException, invalidRequest } from '../ingestion.exception';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { SubjectEvent, subjectStream } from '../subjects/subject.decider';
import { lockSubject } from '../subjects/subject.store';
import { ConsentCommand, consentDecider } from './consent.decider';
import { mapFhirConsent } from './fhir-consent.mapper';

/** A real date in a sane range: `0000-01-01` or `1950-02-30` is a 400, not a database error. */
const dateTime = isoDateTime();

/** The native (non-FHIR) shape of a consent; a body with `resourceType: "Consent"` is read as FHIR instead. */
export const RecordConsentRequest = z
  .object({
    status: z.enum(CONSENT_STATUSES).default('active'),
    decision: z.enum(['permit', 'deny']),
    purposes: z.array(z.enum(CONSENT_PURPOSES)).min(1),
    period: z.object({ start: dateTime.nullable().optional(), end: dateTime.nullable().optional() }).strict().optional(),
    sourceSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256')
      .optional(),
  })
  .strict();

export const WithdrawConsentRequest = z
  .object({
    purposes: z.array(z.enum(CONSENT_PURPOSES)).min(1).optional(),
    /** The subject also asks for their data to be deleted: erasure follows. */
    eraseData: z.boolean().default(false),
  })
  .strict();

/** Erases a subject after a withdrawal that asks for deletion (the erasure use case). */
export type Eraser = (subjectId: string, reason: 'consent-withdrawn', actor: Actor) => Promise<unknown>;

@Injectable()
export class ConsentUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly readModels: IngestionReadModels,
    @Optional() @Inject(NEW_ID) private readonly newId: NewId = uuidv4,
  ) {}

  async record(subjectId: string, input: unknown, actor: Actor): Promise<{ consentId: string; fhirVersion: 'R4' | 'R5' | null }> {
    if (!isUuid(subjectId)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'subject id must be a UUID', ['subjectId']);
    let fields: Omit<Extract<ConsentCommand, { type: 'RecordConsent' }>, 'type' | 'subjectId' | 'consentId'>;
    if (typeof input === 'object' && input !== null && 'resourceType' in input) {
      fields = mapFhirConsent(input);
    } else {
      const parsed = RecordConsentRequest.safeParse(input);
      if (!parsed.success) throw invalidRequest('consent', parsed.error.issues);
      const r = parsed.data;
      fields = {
        status: r.status,
        decision: r.decision,
        purposes: r.purposes,
        period: { start: r.period?.start ? new Date(r.period.start).toISOString() : null, end: r.period?.end ? new Date(r.period.end).toISOString() : null },
        sourceSha256: r.sourceSha256 ?? null,
        fhirVersion: null,
      };
    }
    const consentId = this.newId();
    await this.decideAndAppend(subjectId, { type: 'RecordConsent', subjectId, consentId, ...fields }, actor);
    return { consentId, fhirVersion: fields.fhirVersion };
  }

  async withdraw(subjectId: string, consentId: string, input: unknown, actor: Actor, eraser?: Eraser): Promise<{ purposes: string[]; erased: boolean }> {
    if (!isUuid(subjectId) || !isUuid(consentId)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'subject and consent ids must be UUIDs');
    const parsed = WithdrawConsentRequest.safeParse(input ?? {});
    if (!parsed.success) throw invalidRequest('withdrawal', parsed.error.issues);
    const [event] = await this.decideAndAppend(
      subjectId,
      { type: 'WithdrawConsent', subjectId, consentId, purposes: parsed.data.purposes, eraseData: parsed.data.eraseData },
      actor,
    );
    if (event?.type !== 'ConsentWithdrawn') throw new Error('unexpected decision');
    const purposes = event.data.purposes;
    if (parsed.data.eraseData && eraser) {
      await eraser(subjectId, 'consent-withdrawn', actor);
      return { purposes, erased: true };
    }
    return { purposes, erased: false };
  }

  private async decideAndAppend(subjectId: string, command: ConsentCommand, actor: Actor): Promise<SubjectEvent[]> {
    const id = subjectId.toLowerCase();
    const stream = { log: INGESTION_LOG, streamId: subjectStream(id), contracts: ingestionContracts };
    const { newEvents } = await withTransaction(this.dataSource, async (tx) => {
      // An asset commit that re-checks consent holds this lock: it sees this change or precedes it.
      await lockSubject(tx, id);
      return handleCommand(
        this.store,
        consentDecider,
        stream,
        { ...command, subjectId: id },
        {
          context: { actor },
          queryRunner: tx,
          afterAppend: (appended, t) => this.readModels.applyAll(appended, t),
        },
      );
    });
    return newEvents;
  }
}
