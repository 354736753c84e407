import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A 32-byte key kept in a file (mode 600), generated on first use. For the embedded default,
 * where no operator has configured keys: nothing secret is ever written into the code, and the
 * key survives restarts. Several processes may race to create it; all end up with the same one.
 */
export function loadOrCreateSecret(file: string): Buffer {
  try {
    return fromHex(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx': if another process created it meanwhile, use theirs.
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return fromHex(readFileSync(file, 'utf8'), file);
}

function fromHex(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^([0-9a-f]{2}){16,}$/i.test(hex)) throw new Error(`${file} does not hold a hex key of at least 16 bytes`);
  return Buffer.from(hex, 'hex');
}
