import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runningClusterPort } from './database.bootstrap';

/** The first lines of a real postmaster.pid: pid, data directory, start time, port, socket dir. */
const postmasterPid = (pid: number, port: number) => `${pid}\n/data/postgres\n1767225600\n${port}\n/tmp\n127.0.0.1\n`;

describe('runningClusterPort', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'trellis-pidfile-'));
    mkdirSync(join(dataDir, 'postgres'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('reads the port of a live cluster from the fourth line of postmaster.pid', async () => {
    writeFileSync(join(dataDir, 'postgres', 'postmaster.pid'), postmasterPid(process.pid, 54411));
    expect(await runningClusterPort(dataDir)).toBe(54411);
  });

  it('says not running when there is no pid file, the process is gone, or the file is garbage', async () => {
    expect(await runningClusterPort(dataDir)).toBeUndefined();
    // Above the kernel's pid_max (4194304), so no process has it.
    writeFileSync(join(dataDir, 'postgres', 'postmaster.pid'), postmasterPid(4194305, 54411));
    expect(await runningClusterPort(dataDir)).toBeUndefined();
    writeFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'not a pid file');
    expect(await runningClusterPort(dataDir)).toBeUndefined();
  });
});
