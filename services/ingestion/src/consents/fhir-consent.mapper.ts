import { createHash } from 'node:crypto';
import { canonicalJson, CONSENT_STATUSES, ConsentPurpose, ConsentStatus, isIsoDateTime, MAX_YEAR, MIN_YEAR } from '@trellis/contracts';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';

/**
 * FHIR Consent (R4 or R5) -> the consent Trellis records.
 *
 * Purpose codings are mapped, anything else is refused with the codings named:
 *
 * | system                                                   | code                      | purpose          |
 * | -------------------------------------------------------- | ------------------------- | ---------------- |
 * | http://terminology.hl7.org/CodeSystem/v3-ActReason       | HRESCH, CLINTRCH, BIORCH  | research         |
 * | https://trellis.dev/fhir/CodeSystem/consent-purpose      | model-training            | model-training   |
 * | https://trellis.dev/fhir/CodeSystem/consent-purpose      | research                  | research         |
 * | https://trellis.dev/fhir/CodeSystem/consent-purpose      | human-annotation          | human-annotation |
 *
 * R4: the decision is `provision.type`, purposes `provision.purpose`, the period
 * `provision.period`; `scope` and `policyRule` are accepted (not interpreted). R5: the decision
 * is `decision`, purposes come from every `provision[].purpose`, the period is `period` (or the
 * provisions' periods when they agree). Nested provisions (exceptions within exceptions) are
 * refused rather than flattened wrongly. The source document is kept by hash only: the SHA-256
 * of the attachment's bytes when it carries data, else of the resource's canonical JSON.
 */
export const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const TRELLIS_PURPOSE_SYSTEM = 'https://trellis.dev/fhir/CodeSystem/consent-purpose';

const PURPOSE_MAP: Record<string, Record<string, ConsentPurpose>> = {
  [V3_ACT_REASON]: { HRESCH: 'research', CLINTRCH: 'research', BIORCH: 'research' },
  [TRELLIS_PURPOSE_SYSTEM]: { 'model-training': 'model-training', research: 'research', 'human-annotation': 'human-annotation' },
};

export interface MappedConsent {
  status: ConsentStatus;
  decision: 'permit' | 'deny';
  purposes: ConsentPurpose[];
  period: { start: string | null; end: string | null };
  sourceSha256: string | null;
  fhirVersion: 'R4' | 'R5';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(message: string, field?: string): never {
  throw new IngestionException(IngestionErrorCode.InvalidFhirConsent, `FHIR Consent: ${message}`, field ? [field] : undefined);
}

export function detectFhirVersion(resource: Json): 'R4' | 'R5' {
  const r5 = 'decision' in resource || Array.isArray(resource.provision) || Array.isArray(resource.sourceAttachment) || 'subject' in resource;
  const r4 = isObject(resource.provision) || 'scope' in resource || 'policyRule' in resource || 'patient' in resource || isObject(resource.sourceAttachment);
  if (r5 && r4) fail('mixes R4 fields (provision object, scope, policyRule, patient) with R5 fields (decision, provision list, subject)');
  if (!r5 && !r4) fail('cannot tell R4 from R5: expected provision (R4: an object with type; R5: a list, with decision)');
  return r5 ? 'R5' : 'R4';
}

function fhirDateTime(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') fail(`${field} must be a FHIR dateTime string`, field);
  // FHIR allows partial dates; a bare date means its first instant (UTC).
  const m = /^(\d{4})(-(\d{2})(-(\d{2})(T.+)?)?)?$/.exec(value);
  // The messages do not repeat the value: it is input, and may be anything.
  if (!m) fail(`${field} is not a FHIR dateTime`, field);
  const iso = m[6] ? value : `${m[1]}-${m[3] ?? '01'}-${m[5] ?? '01'}T00:00:00Z`;
  // A real date in a sane range (not 0000-01-01, not 1950-02-30), with a time zone.
  if (!isIsoDateTime(iso)) fail(`${field} is not a FHIR dateTime with a time zone on a real date between ${MIN_YEAR} and ${MAX_YEAR}`, field);
  return new Date(iso).toISOString();
}

function period(value: unknown, field: string): { start: string | null; end: string | null } {
  if (value === undefined) return { start: null, end: null };
  if (!isObject(value)) fail(`${field} must be a Period object`, field);
  return { start: fhirDateTime(value.start, `${field}.start`), end: fhirDateTime(value.end, `${field}.end`) };
}

function purposes(value: unknown, field: string): ConsentPurpose[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`${field} must be a list of Coding`, field);
  const mapped: ConsentPurpose[] = [];
  const unmapped: string[] = [];
  value.forEach((coding, i) => {
    if (!isObject(coding) || typeof coding.system !== 'string' || typeof coding.code !== 'string') {
      fail(`${field}[${i}] must be a Coding with system and code`, `${field}.${i}`);
    }
    const p = PURPOSE_MAP[coding.system]?.[coding.code];
    if (p) mapped.push(p);
    else unmapped.push(`${coding.system}|${coding.code}`);
  });
  if (unmapped.length > 0) {
    fail(
      `cannot map purpose coding ${unmapped.join(', ')}; known: ${V3_ACT_REASON}|HRESCH, CLINTRCH, BIORCH (research) and ${TRELLIS_PURPOSE_SYSTEM}|model-training, research, human-annotation`,
      field,
    );
  }
  return mapped;
}

function sourceSha256(resource: Json): string {
  const attachments = Array.isArray(resource.sourceAttachment) ? resource.sourceAttachment : resource.sourceAttachment ? [resource.sourceAttachment] : [];
  const withData = attachments.find((a) => isObject(a) && typeof a.data === 'string') as Json | undefined;
  if (withData) {
    const bytes = Buffer.from(withData.data as string, 'base64');
    if (bytes.length === 0) fail('sourceAttachment.data is empty or not base64', 'sourceAttachment.data');
    return createHash('sha256').update(bytes).digest('hex');
  }
  return createHash('sha256').update(canonicalJson(resource)).digest('hex');
}

function decision(value: unknown, field: string): 'permit' | 'deny' {
  if (value !== 'permit' && value !== 'deny') fail(`${field} must be "permit" or "deny"`, field);
  return value;
}

export function mapFhirConsent(input: unknown): MappedConsent {
  if (!isObject(input) || input.resourceType !== 'Consent') fail('resourceType must be "Consent"', 'resourceType');
  const resource = input;
  if (!(CONSENT_STATUSES as readonly string[]).includes(resource.status as string)) {
    fail(`status must be one of ${CONSENT_STATUSES.join(', ')}`, 'status');
  }
  const status = resource.status as ConsentStatus;
  const fhirVersion = detectFhirVersion(resource);
  let result: Omit<MappedConsent, 'status' | 'fhirVersion' | 'sourceSha256'>;
  if (fhirVersion === 'R4') {
    const provision = resource.provision;
    if (!isObject(provision)) fail('R4 Consent needs a provision with type (permit or deny) and purpose', 'provision');
    if (provision.provision !== undefined)
      fail('nested provisions (provision.provision) are not supported; send one consent per decision', 'provision.provision');
    result = {
      decision: decision(provision.type, 'provision.type'),
      purposes: purposes(provision.purpose, 'provision.purpose'),
      period: period(provision.period, 'provision.period'),
    };
  } else {
    const provisions = (resource.provision ?? []) as unknown[];
    const all: ConsentPurpose[] = [];
    const periods: { start: string | null; end: string | null }[] = [];
    provisions.forEach((p, i) => {
      if (!isObject(p)) fail(`provision[${i}] must be an object`, `provision.${i}`);
      if (p.provision !== undefined)
        fail(`nested provisions (provision[${i}].provision) are not supported; send one consent per decision`, `provision.${i}.provision`);
      all.push(...purposes(p.purpose, `provision[${i}].purpose`));
      if (p.period !== undefined) periods.push(period(p.period, `provision[${i}].period`));
    });
    let consentPeriod = period(resource.period, 'period');
    if (resource.period === undefined && periods.length > 0) {
      if (periods.some((p) => p.start !== periods[0].start || p.end !== periods[0].end)) {
        fail('provisions with different periods are not supported; send one consent per period', 'provision');
      }
      consentPeriod = periods[0];
    }
    result = { decision: decision(resource.decision, 'decision'), purposes: all, period: consentPeriod };
  }
  if (result.purposes.length === 0) {
    fail(`no purpose given (${fhirVersion === 'R4' ? 'provision.purpose' : 'provision[].purpose'}): Trellis records consent per purpose`, 'purpose');
  }
  return { ...result, purposes: [...new Set(result.purposes)].sort(), status, fhirVersion, sourceSha256: sourceSha256(resource) };
}
