import { AnnotationCliDeps, HttpResult, runAnnotationCommand } from './annotation.command';

/** A fake platform that records requests and answers from a script (an in-memory fake of our own interface). */
function fakeDeps(answers: HttpResult[], files: Record<string, string> = {}) {
  const calls: { method: string; path: string; body?: { json?: unknown; raw?: Buffer } }[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const written: Record<string, string> = {};
  const deps: AnnotationCliDeps = {
    async http(method, path, body) {
      calls.push({ method, path, body });
      const a = answers.shift();
      if (!a) throw new Error('unexpected request');
      return a;
    },
    async readFile(p) {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return Buffer.from(files[p]);
    },
    async writeFile(p, d) {
      written[p] = d;
    },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return { deps, calls, out, err, written };
}

describe('runAnnotationCommand', () => {
  describe('create-project', () => {
    it('posts the project with typed numbers and the label list, and prints its id', async () => {
      const f = fakeDeps([{ status: 201, text: JSON.stringify({ projectId: 'p-1', tasks: { open: 3 }, datasetVersionReceived: true }) }], { 'g.md': 'Label it.' });
      const code = await runAnnotationCommand(
        ['create-project', '--dataset', 'd-1', '--dataset-version', '2', '--type', 'classification', '--labels', 'normal, abnormal', '--guidelines-file', 'g.md', '--per-item', '3', '--threshold', '0.6'],
        f.deps,
      );
      expect(code).toBe(0);
      expect(f.calls[0]).toEqual({
        method: 'POST',
        path: '/annotation/projects',
        body: { json: { name: 'annotation of d-1 v2', datasetId: 'd-1', datasetVersion: 2, taskType: 'classification', labels: ['normal', 'abnormal'], guidelines: 'Label it.', annotationsPerItem: 3, agreementThreshold: 0.6 } },
      });
      expect(f.out).toEqual(['p-1']);
    });

    it('exits 2 with the usage on a missing flag or a non-number, sending nothing', async () => {
      const f = fakeDeps([]);
      expect(await runAnnotationCommand(['create-project', '--dataset', 'd-1'], f.deps)).toBe(2);
      expect(await runAnnotationCommand(['create-project', '--dataset', 'd', '--dataset-version', 'two', '--type', 'caption', '--guidelines', 'g', '--per-item', '1', '--threshold', '0'], f.deps)).toBe(2);
      expect(f.err.join('\n')).toMatch(/--dataset-version must be a number, got "two"/);
      expect(f.calls).toEqual([]);
    });

    it("exits 1 with the platform's error code and message when it refuses", async () => {
      const f = fakeDeps([{ status: 400, text: JSON.stringify({ error: 'INVALID_REQUEST', message: 'invalid project: body.labels: only classification projects have labels' }) }]);
      const code = await runAnnotationCommand(['create-project', '--dataset', 'd', '--dataset-version', '1', '--type', 'caption', '--labels', 'a', '--guidelines', 'g', '--per-item', '1', '--threshold', '0'], f.deps);
      expect(code).toBe(1);
      expect(f.err.join('\n')).toMatch(/400 INVALID_REQUEST: invalid project: body.labels/);
    });
  });

  describe('export and import', () => {
    it('writes an export to a file and uploads an import file as it is', async () => {
      const f = fakeDeps([{ status: 200, text: '[]' }, { status: 201, text: JSON.stringify({ imported: 2, skipped: [{ reason: 'subject-erased', count: 1 }] }) }], { 'in.json': '[{"id":"x"}]' });
      expect(await runAnnotationCommand(['export', '--project', 'p-1', '--set-version', '3', '--format', 'coco', '--out', 'out.json'], f.deps)).toBe(0);
      expect(f.calls[0].path).toBe('/annotation/projects/p-1/sets/3/export?format=coco');
      expect(f.written['out.json']).toBe('[]');
      expect(await runAnnotationCommand(['import', '--project', 'p-1', '--format', 'llava', 'in.json'], f.deps)).toBe(0);
      expect(f.calls[1]).toMatchObject({ method: 'POST', path: '/annotation/projects/p-1/imports?format=llava' });
      expect(f.calls[1].body!.raw!.toString()).toBe('[{"id":"x"}]');
      expect(f.out).toEqual(['imported 2 item(s); skipped 1 subject-erased']);
    });
  });
});
