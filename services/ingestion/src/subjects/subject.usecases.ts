import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { Actor, calendarDate, INGESTION_LOG, ingestionContracts, isUuid, safeText } from '@trellis/contracts';
import { CLOCK, Clock, NEW_ID, NewId, withTransaction } from '@trellis/common';
import { handleCommand, PostgresEventStore } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException, invalidRequest } from '../ingestion.exception';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { decideSubject, permittedPurposes, subjectDecider, SubjectIdentityFields, subjectStream } from './subject.decider';
import { SubjectIdentityRepository } from './subject-identity.repository';
import { loadSubject } from './subject.store';

export const RegisterSubjectRequest = z
  .object({
    /** The caller's own reference (e.g. a study id); mapped to a pseudonymous UUID. */
    externalRef: safeText({ max: 200 }).optional(),
    name: safeText({ max: 300 }).optional(),
    birthDate: calendarDate().optional(),
    mrn: safeText({ max: 100 }).optional(),
  })
  .strict();

export interface SubjectView {
  subjectId: string;
  status: 'active' | 'erasing' | 'erased';
  registeredAt: string;
  erasedAt: string | null;
  /** What the subject currently permits, from their consent history. */
  permittedPurposes: string[];
  consents: {
    consentId: string;
    status: string;
    decision: string;
    purposes: string[];
    withdrawnPurposes: string[];
    periodStart: string | null;
    periodEnd: string | null;
    sourceSha256: string | null;
    fhirVersion: string | null;
    recordedAt: string;
  }[];
}

@Injectable()
export class SubjectUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly identities: SubjectIdentityRepository,
    private readonly readModels: IngestionReadModels,
    @Optional() @Inject(NEW_ID) private readonly newId: NewId = uuidv4,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = () => new Date(),
  ) {}

  /**
   * A new pseudonymous subject. An external reference seen before answers the existing subject
   * when the identity is the same (a re-import), and is refused (409, naming the differing
   * fields) when it is not: the subject decider says which.
   */
  async register(input: unknown, actor: Actor): Promise<{ subjectId: string; duplicate: boolean }> {
    const parsed = RegisterSubjectRequest.safeParse(input ?? {});
    if (!parsed.success) throw invalidRequest('subject', parsed.error.issues);
    const req = parsed.data;
    const identity: SubjectIdentityFields = {
      externalRef: req.externalRef ?? null,
      name: req.name ?? null,
      birthDate: req.birthDate ?? null,
      mrn: req.mrn ?? null,
    };
    for (let attempt = 1; ; attempt++) {
      const onFile = identity.externalRef === null ? undefined : await this.identities.findByExternalRef(identity.externalRef);
      if (onFile) {
        const { state } = await loadSubject(this.store, onFile.subjectId);
        // Nothing to append for the same person; a conflict or an erased subject throws.
        decideSubject(state, { type: 'RegisterSubject', subjectId: onFile.subjectId, identity, onFile: onFile.identity });
        return { subjectId: onFile.subjectId, duplicate: true };
      }
      // Random (v4), not time-ordered: the id must not hint at when or in what order people enrolled.
      const subjectId = this.newId();
      try {
        await withTransaction(this.dataSource, (tx) =>
          handleCommand(
            this.store,
            subjectDecider,
            { log: INGESTION_LOG, streamId: subjectStream(subjectId), contracts: ingestionContracts },
            { type: 'RegisterSubject', subjectId, identity },
            {
              context: { actor },
              queryRunner: tx,
              afterAppend: async (appended, t) => {
                await this.identities.insert(t, subjectId, identity);
                await this.readModels.applyAll(appended, t);
              },
            },
          ),
        );
        return { subjectId, duplicate: false };
      } catch (err) {
        // Two registrations of one external ref raced: decide again against the winner's identity.
        if (identity.externalRef !== null && (err as { code?: string }).code === '23505' && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** A subject id, or an external ref resolved to one. */
  async resolve(ref: string): Promise<string> {
    if (isUuid(ref)) return ref.toLowerCase();
    const id = await this.identities.subjectIdByExternalRef(ref);
    if (!id) throw new IngestionException(IngestionErrorCode.SubjectNotFound, 'no subject with that id or external reference');
    return id;
  }

  async get(ref: string): Promise<SubjectView> {
    const subjectId = await this.resolve(ref);
    const rows = await this.dataSource.query('SELECT * FROM ingestion_subjects WHERE subject_id = $1', [subjectId]);
    if (rows.length === 0) throw new IngestionException(IngestionErrorCode.SubjectNotFound, `no subject ${subjectId}`);
    const consents = await this.dataSource.query('SELECT * FROM ingestion_consents WHERE subject_id = $1 ORDER BY recorded_at, consent_id', [subjectId]);
    const { state } = await loadSubject(this.store, subjectId);
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    return {
      subjectId,
      status: rows[0].status,
      registeredAt: rows[0].registered_at.toISOString(),
      erasedAt: iso(rows[0].erased_at),
      permittedPurposes: permittedPurposes(state, this.clock()),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a consent-ledger row as pg returns it
      consents: consents.map((c: any) => ({
        consentId: c.consent_id,
        status: c.status,
        decision: c.decision,
        purposes: c.purposes,
        withdrawnPurposes: c.withdrawn_purposes,
        periodStart: iso(c.period_start),
        periodEnd: iso(c.period_end),
        sourceSha256: c.source_sha256,
        fhirVersion: c.fhir_version,
        recordedAt: c.recorded_at.toISOString(),
      })),
    };
  }
}
