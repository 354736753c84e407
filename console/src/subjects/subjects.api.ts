// The REST shapes the subject pages use (services/ingestion/src/subjects and consents).

export interface ConsentRecord {
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
}

/** GET /ingestion/subjects/:ref: pseudonymous id and consent history, never personal details. */
export interface SubjectView {
  subjectId: string;
  status: 'active' | 'erasing' | 'erased';
  registeredAt: string;
  erasedAt: string | null;
  permittedPurposes: string[];
  consents: ConsentRecord[];
}

/** POST /ingestion/subjects/:subjectId/consents/:consentId/withdraw (WithdrawConsentDto). */
export interface WithdrawConsentBody {
  /** Default: every purpose the consent still permits. */
  purposes?: string[];
  /** The subject also asks for deletion: the subject is erased. */
  eraseData?: boolean;
}

export interface WithdrawConsentResult {
  purposes: string[];
  erased: boolean;
}
