import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { Actor, INGESTION_LOG, isUuid } from '@trellis/contracts';
import { CLOCK, Clock, NEW_ID, NewId, withTransaction } from '@trellis/common';
import { PostgresEventStore } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException, invalidRequest } from '../ingestion.exception';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { decideSubject, initialSubjectState, permittedPurposes, subjectStream } from './subject.decider';
import { SubjectIdentityRepository } from './subject-identity.repository';
import { loadSubject } from './subject.store';

export const RegisterSubjectRequest = z
  .object({
    /** The caller's own reference (e.g. a study id); mapped to a pseudonymous UUID. */
    externalRef: z.string().trim().min(1).max(200).optional(),
    name: z.string().trim().min(1).max(300).optional(),
    birthDate: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
      .optional(),
    mrn: z.string().trim().min(1).max(100).optional(),
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

  /** A new pseudonymous subject; an external ref seen before answers the existing one. */
  async register(input: unknown, actor: Actor): Promise<{ subjectId: string; duplicate: boolean }> {
    const parsed = RegisterSubjectRequest.safeParse(input ?? {});
    if (!parsed.success) throw invalidRequest('subject', parsed.error.issues);
    const req = parsed.data;
    if (req.externalRef) {
      const existing = await this.identities.subjectIdByExternalRef(req.externalRef);
      if (existing) return { subjectId: existing, duplicate: true };
    }
    // Random (v4), not time-ordered: the id must not hint at when or in what order people enrolled.
    const subjectId = this.newId();
    const events = decideSubject(initialSubjectState, { type: 'RegisterSubject', subjectId });
    try {
      await withTransaction(this.dataSource, async (tx) => {
        const appended = await this.store.append(INGESTION_LOG, subjectStream(subjectId), events, { actor }, { expectedVersion: 'no_stream', queryRunner: tx });
        await this.identities.insert(tx, subjectId, {
          externalRef: req.externalRef ?? null,
          name: req.name ?? null,
          birthDate: req.birthDate ?? null,
          mrn: req.mrn ?? null,
        });
        await this.readModels.applyAll(appended.events, tx);
      });
    } catch (err) {
      // Two registrations of one external ref raced: the loser answers the winner.
      if (req.externalRef && (err as { code?: string }).code === '23505') {
        const existing = await this.identities.subjectIdByExternalRef(req.externalRef);
        if (existing) return { subjectId: existing, duplicate: true };
      }
      throw err;
    }
    return { subjectId, duplicate: false };
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
