import { extractReportText } from './report-text';
import { AssetValidationCode } from './processing.exception';
import { validationError as failure } from './testing/validation-error';

const fhir = (resource: unknown) => Buffer.from(JSON.stringify(resource), 'utf8');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe(extractReportText.name, () => {
  describe('text/plain', () => {
    it('returns valid UTF-8 as is (a BOM dropped)', () => {
      expect(extractReportText(Buffer.from('\uFEFFBefund: Knötchen 5 mm — unverändert.', 'utf8'), 'text/plain')).toBe('Befund: Knötchen 5 mm — unverändert.');
    });

    it('refuses invalid UTF-8 with the offset of the first bad byte, not the content', () => {
      const bytes = Buffer.concat([Buffer.from('Patient Jane Roe: ', 'utf8'), Buffer.from([0xc3, 0x28]), Buffer.from(' rest')]);
      const err = failure(() => extractReportText(bytes, 'text/plain'));
      expect(err.code).toBe(AssetValidationCode.NOT_UTF8);
      expect(err.message).toContain('offset 18'); // 'Patient Jane Roe: ' is 18 bytes
      expect(err.message).not.toContain('Jane');
      // Latin-1 text, overlong encodings and UTF-16 surrogates are not UTF-8 either.
      expect(failure(() => extractReportText(Buffer.from('Größe', 'latin1'), 'text/plain')).code).toBe(AssetValidationCode.NOT_UTF8);
      expect(failure(() => extractReportText(Buffer.from([0x41, 0xc0, 0xaf]), 'text/plain')).message).toContain('offset 1');
      expect(failure(() => extractReportText(Buffer.from([0xed, 0xa0, 0x80]), 'text/plain')).code).toBe(AssetValidationCode.NOT_UTF8);
    });

    it('refuses an empty or blank report', () => {
      expect(failure(() => extractReportText(Buffer.alloc(0), 'text/plain')).code).toBe(AssetValidationCode.EMPTY_FILE);
      expect(failure(() => extractReportText(Buffer.from(' \n\t '), 'text/plain')).code).toBe(AssetValidationCode.EMPTY_FILE);
    });
  });

  describe('application/fhir+json', () => {
    it('joins conclusion and text/plain presentedForm data, skipping other renditions', () => {
      const text = extractReportText(
        fhir({
          resourceType: 'DiagnosticReport',
          status: 'final',
          code: { text: 'Chest X-ray' },
          conclusion: 'Small nodule, upper left.',
          presentedForm: [
            { contentType: 'application/pdf', data: b64('%PDF-1.4') },
            { contentType: 'text/plain; charset=utf-8', data: b64('FINDINGS: 5 mm nodule.') },
          ],
        }),
        'application/fhir+json',
      );
      expect(text).toBe('Small nodule, upper left.\n\nFINDINGS: 5 mm nodule.');
    });

    it.each([
      ['not JSON', Buffer.from('{"resourceType": "DiagnosticReport",'), 'not valid JSON'],
      ['an array', fhir([]), 'array'],
      ['another resource', fhir({ resourceType: 'Patient', name: [{ family: 'Roe' }] }), 'resourceType must be DiagnosticReport'],
      ['no resourceType', fhir({ conclusion: 'x' }), 'missing'],
      ['a non-string conclusion', fhir({ resourceType: 'DiagnosticReport', conclusion: 5 }), 'conclusion must be a string'],
      ['presentedForm not an array', fhir({ resourceType: 'DiagnosticReport', presentedForm: {} }), 'presentedForm must be an array'],
      [
        'data not base64',
        fhir({ resourceType: 'DiagnosticReport', presentedForm: [{ contentType: 'text/plain', data: '!!not base64!!' }] }),
        'presentedForm[0].data is not base64',
      ],
      ['text only by url', fhir({ resourceType: 'DiagnosticReport', presentedForm: [{ contentType: 'text/plain', url: 'http://x/y' }] }), 'by url'],
      ['no text at all', fhir({ resourceType: 'DiagnosticReport', status: 'final' }), 'has no text'],
    ])('refuses %s with INVALID_FHIR saying why', (_what, bytes, expected) => {
      const err = failure(() => extractReportText(bytes, 'application/fhir+json'));
      expect(err.code).toBe(AssetValidationCode.INVALID_FHIR);
      expect(err.message).toContain(expected);
      expect(err.message).not.toContain('Roe');
    });

    it('refuses presentedForm data that decodes to invalid UTF-8', () => {
      const bytes = fhir({
        resourceType: 'DiagnosticReport',
        presentedForm: [{ contentType: 'text/plain', data: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') }],
      });
      expect(failure(() => extractReportText(bytes, 'application/fhir+json')).code).toBe(AssetValidationCode.NOT_UTF8);
    });
  });
});
