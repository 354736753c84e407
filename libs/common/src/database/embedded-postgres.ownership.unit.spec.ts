import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimEmbeddedPostgres, embeddedPostgresOwner, stopEmbeddedPostgres } from './embedded-postgres.launcher';

describe('embeddedPostgresOwner (issue 11 item 9)', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'trellis-owner-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('says none without a record, self after claiming, and none again after a stop gives it up', async () => {
    expect(await embeddedPostgresOwner(dataDir)).toBe('none');
    await claimEmbeddedPostgres(dataDir);
    expect(await embeddedPostgresOwner(dataDir)).toBe('self');
    // No server (no postmaster.pid): stopping only gives up ownership.
    await stopEmbeddedPostgres(dataDir);
    expect(await embeddedPostgresOwner(dataDir)).toBe('none');
  });

  it('says alive for another live process, none once it is gone or when its pid was reused', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dataDir, 'postgres.owner'), `${other.pid}\n`);
      expect(await embeddedPostgresOwner(dataDir)).toBe('alive');
      // The same pid with another start time: an unrelated process that got the owner's pid.
      writeFileSync(join(dataDir, 'postgres.owner'), `${other.pid}\n1\n`);
      expect(await embeddedPostgresOwner(dataDir)).toBe('none');
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    writeFileSync(join(dataDir, 'postgres.owner'), `${other.pid}\n`);
    expect(await embeddedPostgresOwner(dataDir)).toBe('none');
  });
});
