import { AssetValidationError } from '../processing.exception';

/** The AssetValidationError `fn` throws; anything else it throws, or nothing thrown, fails the test. */
export function validationError(fn: () => unknown): AssetValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AssetValidationError) return err;
    throw err;
  }
  throw new Error('expected an AssetValidationError');
}
