import { jsonDocument, userPath } from '@trellis/cli';
import { annotationCommand, AnnotationCliDeps, HttpResult, runAnnotationCommand } from './annotation.command';

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
    // The command hands over absolute paths (relative ones resolved against the user's directory).
    async readFile(p) {
      const name = Object.keys(files).find((f) => userPath(f) === p);
      if (name === undefined) throw new Error(`ENOENT: ${p}`);
      return Buffer.from(files[name]);
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
      const f = fakeDeps([{ status: 201, text: JSON.stringify({ projectId: 'p-1', tasks: { open: 3 }, datasetVersionReceived: true }) }], {
        'g.md': 'Label it.',
      });
      const code = await runAnnotationCommand(
        [
          'create-project',
          '--dataset',
          'd-1',
          '--dataset-version',
          '2',
          '--type',
          'classification',
          '--labels',
          'normal, abnormal',
          '--guidelines-file',
          'g.md',
          '--per-item',
          '3',
          '--threshold',
          '0.6',
        ],
        f.deps,
      );
      expect(code).toBe(0);
      expect(f.calls[0]).toEqual({
        method: 'POST',
        path: '/annotation/projects',
        body: {
          json: {
            name: 'annotation of d-1 v2',
            datasetId: 'd-1',
            datasetVersion: 2,
            taskType: 'classification',
            labels: ['normal', 'abnormal'],
            guidelines: 'Label it.',
            annotationsPerItem: 3,
            agreementThreshold: 0.6,
          },
        },
      });
      expect(f.out).toEqual(['p-1']);
    });

    it('exits 2 with the usage on a missing flag or a non-number, sending nothing', async () => {
      const f = fakeDeps([]);
      expect(await runAnnotationCommand(['create-project', '--dataset', 'd-1'], f.deps)).toBe(2);
      expect(
        await runAnnotationCommand(
          ['create-project', '--dataset', 'd', '--dataset-version', 'two', '--type', 'caption', '--guidelines', 'g', '--per-item', '1', '--threshold', '0'],
          f.deps,
        ),
      ).toBe(2);
      expect(f.err.join('\n')).toMatch(/--dataset-version must be a number, got "two"/);
      expect(f.calls).toEqual([]);
    });

    it("exits 3 with the platform's reason and message when it refuses, 1 when it fails", async () => {
      const args = [
        'create-project',
        '--dataset',
        'd',
        '--dataset-version',
        '1',
        '--type',
        'caption',
        '--labels',
        'a',
        '--guidelines',
        'g',
        '--per-item',
        '1',
        '--threshold',
        '0',
      ];
      const f = fakeDeps([
        {
          status: 400,
          text: JSON.stringify({
            error: 'INVALID_REQUEST',
            reason: 'INVALID_REQUEST',
            message: 'invalid project: body.labels: only classification projects have labels',
          }),
        },
        { status: 403, text: JSON.stringify({ error: 'FORBIDDEN', message: 'requires one of the roles steward' }) },
        { status: 500, text: JSON.stringify({ error: 'INTERNAL', message: 'internal error' }) },
      ]);
      expect(await runAnnotationCommand(args, f.deps)).toBe(3);
      expect(f.err[0]).toBe('trellis annotation create-project: 400 INVALID_REQUEST: invalid project: body.labels: only classification projects have labels');
      expect(await runAnnotationCommand(args, f.deps)).toBe(3);
      expect(f.err[1]).toMatch(/lacks a role \(403\): requires one of the roles steward/);
      expect(await runAnnotationCommand(args, f.deps)).toBe(1);
      expect(f.err[2]).toMatch(/500 INTERNAL: internal error/);
    });
  });

  describe('export and import', () => {
    it('writes an export to a file and uploads an import file as it is', async () => {
      const f = fakeDeps(
        [
          { status: 200, text: '[]' },
          { status: 201, text: JSON.stringify({ imported: 2, skipped: [{ reason: 'subject-erased', count: 1 }] }) },
        ],
        { 'in.json': '[{"id":"x"}]' },
      );
      expect(await runAnnotationCommand(['export', '--project', 'p-1', '--set-version', '3', '--format', 'coco', '--out', 'out.json'], f.deps)).toBe(0);
      expect(f.calls[0].path).toBe('/annotation/projects/p-1/sets/3/export?format=coco');
      expect(f.written[userPath('out.json')]).toBe('[]');
      expect(await runAnnotationCommand(['import', '--project', 'p-1', '--format', 'llava', 'in.json'], f.deps)).toBe(0);
      expect(f.calls[1]).toMatchObject({ method: 'POST', path: '/annotation/projects/p-1/imports?format=llava' });
      expect(f.calls[1].body!.raw!.toString()).toBe('[{"id":"x"}]');
      expect(f.out).toEqual(['imported 2 item(s); skipped 1 subject-erased']);
    });
  });

  describe('--json', () => {
    /** stdout of a --json run: exactly one JSON document, pretty-printed, and nothing else. */
    const onlyJson = (out: string[]): unknown => {
      expect(out).toHaveLength(1);
      expect(out[0]).toBe(jsonDocument(JSON.parse(out[0])));
      return JSON.parse(out[0]);
    };

    it("create-project, publish and import print the platform's answer; the human lines stay on stderr", async () => {
      const project = { projectId: 'p-1', tasks: { open: 3 }, datasetVersionReceived: true };
      const set = { version: 2, itemCount: 5, leftOutCount: 1, contentSha256: 'ab'.repeat(32) };
      const imported = { imported: 2, skipped: [{ reason: 'subject-erased', count: 1 }] };
      const f = fakeDeps(
        [
          { status: 201, text: JSON.stringify(project) },
          { status: 201, text: JSON.stringify(set) },
          { status: 201, text: JSON.stringify(imported) },
        ],
        { 'in.json': '[]' },
      );
      const create = [
        'create-project',
        '--dataset',
        'd',
        '--dataset-version',
        '1',
        '--type',
        'caption',
        '--guidelines',
        'g',
        '--per-item',
        '1',
        '--threshold',
        '0',
      ];
      for (const [argv, answer] of [
        [create, project],
        [['publish', '--project', 'p-1'], set],
        [['import', '--project', 'p-1', '--format', 'llava', 'in.json'], imported],
      ] as const) {
        f.out.length = 0;
        expect(await runAnnotationCommand([...argv, '--json'], f.deps)).toBe(0);
        expect(onlyJson(f.out)).toEqual(answer);
      }
      expect(f.err).toEqual(['created project with 3 task(s)', `published set version 2: 5 item(s), 1 left out, sha256 ${'ab'.repeat(32)}`]);
    });

    it('export prints the set as one document (JSON Lines as an array of its records), or with --out what it wrote', async () => {
      const llava = [{ id: 'i-1', image: 'a.png', conversations: [] }];
      const f = fakeDeps([
        { status: 200, text: JSON.stringify(llava, null, 2) },
        { status: 200, text: '{"id":"i-1","caption":"x"}\n{"id":"i-2","caption":"y"}\n' },
        { status: 200, text: '[]' },
      ]);
      expect(await runAnnotationCommand(['export', '--project', 'p-1', '--set-version', '1', '--json'], f.deps)).toBe(0);
      expect(onlyJson(f.out)).toEqual(llava);
      f.out.length = 0;
      expect(await runAnnotationCommand(['export', '--project', 'p-1', '--set-version', '1', '--format', 'jsonl', '--json'], f.deps)).toBe(0);
      expect(onlyJson(f.out)).toEqual([
        { id: 'i-1', caption: 'x' },
        { id: 'i-2', caption: 'y' },
      ]);
      f.out.length = 0;
      expect(await runAnnotationCommand(['export', '--project', 'p-1', '--set-version', '1', '--out', 'set.json', '--json'], f.deps)).toBe(0);
      expect(onlyJson(f.out)).toEqual({ file: userPath('set.json'), format: 'llava', bytes: 2 });
      expect(f.err).toEqual([`wrote ${userPath('set.json')}`]);
    });

    it('leaves stdout empty when the platform refuses, with the same exit code', async () => {
      const f = fakeDeps([{ status: 404, text: JSON.stringify({ error: 'PROJECT_NOT_FOUND', message: 'no such project' }) }]);
      expect(await runAnnotationCommand(['publish', '--project', 'p-9', '--json'], f.deps)).toBe(3);
      expect(f.out).toEqual([]);
      expect(f.err).toEqual(['trellis annotation publish: 404 PROJECT_NOT_FOUND: no such project']);
    });

    it('is in every subcommand’s usage', () => {
      for (const usage of Object.values(annotationCommand.subcommands!)) expect(usage.split('\nexample:')[0]).toContain('[--json]');
    });
  });
});
