import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { MAX_VERSION } from '@trellis/contracts';
import { version } from './datasets.controller';

describe('DatasetsController', () => {
  describe('version', () => {
    it.each(['1', '2', '42', String(MAX_VERSION)])('accepts %j', (raw) => {
      expect(version(raw, 'version')).toBe(Number(raw));
    });

    it.each(['1e11', '1e3', '2147483648', '99999999999', '0', '-1', '01', '1.0', '1.5', '0x10', ' 1', '', 'abc', undefined])(
      'refuses %j with a 400 naming the field',
      (raw) => {
        let thrown: unknown;
        try {
          version(raw, 'from');
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(IngestionException);
        const err = thrown as IngestionException;
        expect(err.code).toBe(IngestionErrorCode.InvalidRequest);
        expect(err.errorClass).toBe('validation');
        expect(err.fields).toEqual(['from']);
        expect(err.message).toContain('from must be');
      },
    );
  });
});
