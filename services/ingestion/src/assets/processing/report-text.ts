import { AssetValidationCode, AssetValidationError } from './processing.exception';

export type ReportMimeType = 'text/plain' | 'application/fhir+json';

const MAX_FHIR_DEPTH_HINT = 'a FHIR DiagnosticReport resource (R4 or R5)';

/**
 * The text of a report upload: plain UTF-8 as is, or the narrative of a FHIR R4/R5
 * DiagnosticReport (`conclusion` and every text/plain `presentedForm[].data`, base64).
 * Invalid UTF-8 is refused rather than replaced, so nothing is silently altered.
 */
export function extractReportText(bytes: Uint8Array, declaredMimeType: ReportMimeType): string {
  if (bytes.length === 0) throw new AssetValidationError(AssetValidationCode.EMPTY_FILE, 'the report is empty');
  const text = strictUtf8(bytes, 'the report');
  switch (declaredMimeType) {
    case 'text/plain': {
      const body = text.replace(/^\uFEFF/, '');
      if (body.trim() === '') throw new AssetValidationError(AssetValidationCode.EMPTY_FILE, 'the report holds only whitespace');
      return body;
    }
    case 'application/fhir+json':
      return fhirDiagnosticReportText(text);
    default:
      throw new AssetValidationError(AssetValidationCode.UNSUPPORTED_TYPE, 'the declared type is not a report type (text/plain, application/fhir+json)');
  }
}

function strictUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Offset of the first bad sequence helps the sender find it without us quoting anything.
    throw new AssetValidationError(
      AssetValidationCode.NOT_UTF8,
      `${what} is not valid UTF-8 (first invalid byte sequence at offset ${firstInvalidUtf8Offset(bytes)})`,
    );
  }
}

/** Where the first ill-formed sequence starts (Unicode 15, Table 3-7 well-formed byte sequences). */
function firstInvalidUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n > b.length - 1) return i;
    const second = b[i + 1];
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

function fhirDiagnosticReportText(json: string): string {
  let resource: unknown;
  try {
    resource = JSON.parse(json.replace(/^\uFEFF/, ''));
  } catch {
    throw invalidFhir('the content is not valid JSON');
  }
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource))
    throw invalidFhir(`expected ${MAX_FHIR_DEPTH_HINT}, got a JSON ${Array.isArray(resource) ? 'array' : typeof resource}`);
  const r = resource as Record<string, unknown>;
  if (r.resourceType !== 'DiagnosticReport') {
    throw invalidFhir(`resourceType must be DiagnosticReport (it is ${r.resourceType === undefined ? 'missing' : 'another resource type'})`);
  }
  const parts: string[] = [];
  if (r.conclusion !== undefined) {
    if (typeof r.conclusion !== 'string') throw invalidFhir('DiagnosticReport.conclusion must be a string');
    if (r.conclusion.trim()) parts.push(r.conclusion);
  }
  if (r.presentedForm !== undefined) {
    if (!Array.isArray(r.presentedForm)) throw invalidFhir('DiagnosticReport.presentedForm must be an array of Attachment');
    r.presentedForm.forEach((form: unknown, i) => {
      if (typeof form !== 'object' || form === null) throw invalidFhir(`DiagnosticReport.presentedForm[${i}] must be an Attachment object`);
      const a = form as Record<string, unknown>;
      const contentType = typeof a.contentType === 'string' ? a.contentType.split(';')[0].trim().toLowerCase() : '';
      if (contentType !== 'text/plain') return; // PDFs and HTML renditions are not read as text
      if (a.data === undefined) {
        if (a.url !== undefined) throw invalidFhir(`DiagnosticReport.presentedForm[${i}] refers to its text by url; send the text inline as data`);
        return;
      }
      if (typeof a.data !== 'string' || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(a.data))
        throw invalidFhir(`DiagnosticReport.presentedForm[${i}].data is not base64`);
      const decoded = Buffer.from(a.data, 'base64');
      const text = strictUtf8(decoded, `DiagnosticReport.presentedForm[${i}].data`);
      if (text.trim()) parts.push(text);
    });
  }
  if (parts.length === 0) throw invalidFhir('the DiagnosticReport has no text: neither conclusion nor a text/plain presentedForm with data');
  return parts.join('\n\n');
}

function invalidFhir(message: string): AssetValidationError {
  return new AssetValidationError(AssetValidationCode.INVALID_FHIR, message);
}
