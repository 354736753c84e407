import { jsonDocument } from '@trellis/cli';
import {
  approveCommand,
  evalCommand,
  modelsCommand,
  promoteCommand,
  RegistryCliDeps,
  runApproveCommand,
  runEvalCommand,
  runModelsCommand,
  runPromoteCommand,
} from './registry.command';

/** Fake outside world: answers in order, records requests and output. */
function fakeDeps(answers: { status: number; body: unknown }[]) {
  const requests: { method: string; path: string; json?: unknown }[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const deps: RegistryCliDeps = {
    http: async (method, path, json) => {
      requests.push({ method, path, json });
      const a = answers.shift();
      if (!a) throw new Error(`unexpected request ${method} ${path}`);
      return { status: a.status, text: typeof a.body === 'string' ? a.body : JSON.stringify(a.body) };
    },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    sleep: async () => undefined,
  };
  return { deps, requests, out, err };
}

const verdicts = (failing: string[] = []) =>
  ['metrics', 'parameter-budget', 'consent', 'model-card'].map((gate) => ({ gate, passed: !failing.includes(gate), reason: `${gate} reason` }));

describe('runPromoteCommand', () => {
  it('sends the request, prints each verdict and the id, and exits 0 while it waits for approval', async () => {
    const f = fakeDeps([{ status: 201, body: { promotionId: 'P1', alias: 'champion', status: 'pending', verdicts: verdicts() } }]);
    const code = await runPromoteCommand(['m', '2', '--alias', 'champion', '--reason', 'better', '--tolerance', '0.5'], f.deps);
    expect(code).toBe(0);
    expect(f.requests).toEqual([
      { method: 'POST', path: '/registry/promotions', json: { model: 'm', version: 2, alias: 'champion', reason: 'better', tolerance: 0.5 } },
    ]);
    expect(f.out).toEqual(['P1']);
    expect(f.err.slice(0, 4)).toEqual([
      'pass  metrics: metrics reason',
      'pass  parameter-budget: parameter-budget reason',
      'pass  consent: consent reason',
      'pass  model-card: model-card reason',
    ]);
  });

  it('exits 1 when the gates refused, naming the failing gate', async () => {
    const f = fakeDeps([{ status: 201, body: { promotionId: 'P1', alias: 'champion', status: 'rejected', verdicts: verdicts(['consent']) } }]);
    expect(await runPromoteCommand(['m', '2', '--alias', 'champion', '--reason', 'r'], f.deps)).toBe(1);
    expect(f.err).toContain('FAIL  consent: consent reason');
  });

  it('exits 2 without a request on bad usage', async () => {
    for (const argv of [
      ['m'],
      ['m', 'two', '--alias', 'a', '--reason', 'r'],
      ['m', '2', '--reason', 'r'],
      ['m', '2', '--alias', 'a', '--reason', 'r', '--colour', 'x'],
    ]) {
      const f = fakeDeps([]);
      expect(await runPromoteCommand(argv, f.deps)).toBe(2);
      expect(f.requests).toEqual([]);
    }
  });

  it('exits 3 with the platform reason when it refuses', async () => {
    const f = fakeDeps([{ status: 404, body: { error: 'MODEL_NOT_FOUND', message: 'no registered model named "m"' } }]);
    expect(await runPromoteCommand(['m', '2', '--alias', 'a', '--reason', 'r'], f.deps)).toBe(3);
    expect(f.err.at(-1)).toMatch(/404 MODEL_NOT_FOUND/);
  });
});

describe('runApproveCommand', () => {
  it('approves, or rejects with --reject, sending the comment', async () => {
    const f = fakeDeps([
      { status: 200, body: { promotionId: 'P1', alias: 'champion', status: 'approved' } },
      { status: 200, body: { promotionId: 'P2', alias: 'champion', status: 'rejected' } },
    ]);
    expect(await runApproveCommand(['P1', '--comment', 'ok'], f.deps)).toBe(0);
    expect(await runApproveCommand(['P2', '--comment', 'no', '--reject'], f.deps)).toBe(0);
    expect(f.requests.map((r) => [r.path, r.json])).toEqual([
      ['/registry/promotions/P1/approve', { comment: 'ok' }],
      ['/registry/promotions/P2/reject', { comment: 'no' }],
    ]);
    expect(f.out).toEqual(['approved: champion', 'rejected: champion']);
  });

  it('refuses approval without a comment (exit 2)', async () => {
    const f = fakeDeps([]);
    expect(await runApproveCommand(['P1'], f.deps)).toBe(2);
    expect(f.err[0]).toMatch(/--comment is required/);
  });
});

describe('runModelsCommand', () => {
  it('records a card revision of the given fields, then prints the card', async () => {
    const f = fakeDeps([
      { status: 200, body: { revision: 3 } },
      { status: 200, body: '---\nlicense: "mit"\n---\n# Model card' },
    ]);
    expect(await runModelsCommand(['card', 'm', '1', '--intended-use', 'drafts', '--license', 'mit'], f.deps)).toBe(0);
    expect(f.requests).toEqual([
      { method: 'PUT', path: '/registry/models/m/versions/1/card', json: { intendedUse: 'drafts', license: 'mit' } },
      { method: 'GET', path: '/registry/models/m/versions/1/card', json: undefined },
    ]);
    expect(f.out).toEqual(['---\nlicense: "mit"\n---\n# Model card']);
    expect(f.err).toEqual(['card revision 3 recorded']);
  });

  it('tags with KEY=VALUE pairs and removes with --remove', async () => {
    const f = fakeDeps([{ status: 200, body: { tags: { a: 'b=c' } } }]);
    expect(await runModelsCommand(['tag', 'm', '1', 'a=b=c', '--remove', 'old'], f.deps)).toBe(0);
    expect(f.requests[0].json).toEqual({ tags: { a: 'b=c', old: null } });
    expect(await runModelsCommand(['tag', 'm', '1', 'novalue'], fakeDeps([]).deps)).toBe(2);
  });

  it('lists alias moves, and who held each alias at --at on stderr', async () => {
    const f = fakeDeps([
      {
        status: 200,
        body: {
          moves: [{ alias: 'champion', version: 1, kind: 'promotion', movedBy: 'prn-x', reason: 'first', movedAt: '2026-12-01T00:00:00.000Z' }],
          holders: { champion: { version: 1, movedBy: 'prn-x', movedAt: '2026-12-01T00:00:00.000Z' } },
        },
      },
    ]);
    expect(await runModelsCommand(['aliases', 'm', '--alias', 'champion', '--at', '2026-12-02T00:00:00Z'], f.deps)).toBe(0);
    expect(f.requests[0].path).toBe('/registry/models/m/aliases?alias=champion&at=2026-12-02T00%3A00%3A00Z');
    expect(f.out).toEqual(['2026-12-01T00:00:00.000Z  champion -> v1  promotion by prn-x: first']);
    expect(f.err).toEqual(['champion at 2026-12-02T00:00:00Z: v1, moved there by prn-x at 2026-12-01T00:00:00.000Z']);
  });
});

describe('runEvalCommand', () => {
  it('waits for the evaluation and prints its metrics; exit 1 when it failed', async () => {
    const done = fakeDeps([
      { status: 201, body: { evaluationId: 'E1', status: 'requested' } },
      { status: 200, body: { evaluationId: 'E1', status: 'running' } },
      { status: 200, body: { evaluationId: 'E1', status: 'completed', itemCount: 4, metrics: { bleu: 12.5, ciderD: 0.5, vqaAccuracy: null, perplexity: 3 } } },
    ]);
    expect(await runEvalCommand(['start', '--model', 'm', '--version', '1', '--set', 'S', '--wait'], done.deps)).toBe(0);
    expect(done.requests[0].json).toEqual({ model: 'm', version: 1, annotationSet: { setId: 'S' } });
    expect(done.out).toEqual(['E1']);
    expect(done.err).toEqual(['completed on 4 item(s): bleu 12.5000, ciderD 0.5000, perplexity 3.0000']);
    const failed = fakeDeps([
      { status: 201, body: { evaluationId: 'E2', status: 'requested' } },
      { status: 200, body: { evaluationId: 'E2', status: 'failed', failure: { code: 'MODEL_UNREADABLE', reason: 'no adapter' } } },
    ]);
    expect(await runEvalCommand(['start', '--model', 'm', '--version', '1', '--set', 'S', '--wait'], failed.deps)).toBe(1);
    expect(failed.err).toEqual(['failed (MODEL_UNREADABLE): no adapter']);
  });
});

describe('--json', () => {
  /** stdout of a --json run: exactly one JSON document, pretty-printed, and nothing else. */
  const onlyJson = (out: string[]): unknown => {
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(jsonDocument(JSON.parse(out[0])));
    return JSON.parse(out[0]);
  };
  const version = {
    version: 1,
    method: 'lora',
    source: { kind: 'training', runId: 'R1' },
    parameters: { total: 10 },
    aliases: ['champion'],
    flag: null,
    archived: null,
    tags: { a: 'b' },
  };
  const evaluation = { evaluationId: 'E1', status: 'completed', itemCount: 4, metrics: { bleu: 12.5 }, failure: null, requestedAt: '2026-12-01T00:00:00.000Z' };
  const promotion = { promotionId: 'P1', alias: 'champion', status: 'pending', requestedBy: 'prn-x', reason: 'better', verdicts: verdicts() };

  it.each([
    [['list'], [{ name: 'm', latestVersion: 1, aliases: { champion: 1 } }]],
    [['versions', 'm'], [version]],
    [['show', 'm', '1'], version],
    [['tag', 'm', '1', 'a=b'], version],
    [['archive', 'm', '1', '--reason', 'old'], { ...version, archived: { reason: 'old' } }],
    [['aliases', 'm'], { moves: [], holders: {} }],
    [['rollback', 'm', 'champion', '--reason', 'r'], { version: 1 }],
    [['demote', 'm', 'champion', '--reason', 'r'], { version: null }],
    [['retrain', 'm', '1'], { runId: 'R2' }],
  ])("models %j prints the platform's answer", async (argv, answer) => {
    const f = fakeDeps([{ status: 200, body: answer }]);
    expect(await runModelsCommand([...argv, '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual(answer);
  });

  it('models card prints the edit and the Markdown card as one document', async () => {
    const f = fakeDeps([
      { status: 200, body: { revision: 3 } },
      { status: 200, body: '# Model card' },
      { status: 200, body: '# Model card' },
    ]);
    expect(await runModelsCommand(['card', 'm', '1', '--license', 'mit', '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual({ edited: { revision: 3 }, card: '# Model card' });
    expect(f.err).toEqual(['card revision 3 recorded']);
    f.out.length = 0;
    expect(await runModelsCommand(['card', 'm', '1', '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual({ edited: null, card: '# Model card' });
  });

  it('eval start --wait prints only the evaluation as it ended; a failed one still exits 1', async () => {
    const done = fakeDeps([
      { status: 201, body: { evaluationId: 'E1', status: 'requested' } },
      { status: 200, body: { evaluationId: 'E1', status: 'running' } },
      { status: 200, body: evaluation },
    ]);
    expect(await runEvalCommand(['start', '--model', 'm', '--version', '1', '--set', 'S', '--wait', '--json'], done.deps)).toBe(0);
    expect(onlyJson(done.out)).toEqual(evaluation);
    expect(done.err).toEqual(['requested evaluation E1', 'completed on 4 item(s): bleu 12.5000']);
    const failure = { evaluationId: 'E2', status: 'failed', failure: { code: 'MODEL_UNREADABLE', reason: 'no adapter' } };
    const failed = fakeDeps([
      { status: 201, body: { evaluationId: 'E2', status: 'requested' } },
      { status: 200, body: failure },
    ]);
    expect(await runEvalCommand(['start', '--model', 'm', '--version', '1', '--set', 'S', '--wait', '--json'], failed.deps)).toBe(1);
    expect(onlyJson(failed.out)).toEqual(failure);
  });

  it.each([
    [['start', '--model', 'm', '--version', '1', '--set', 'S'], { evaluationId: 'E1', status: 'requested' }],
    [['status', 'E1'], evaluation],
    [['list', '--model', 'm', '--version', '1'], [evaluation]],
  ])("eval %j prints the platform's answer", async (argv, answer) => {
    const f = fakeDeps([{ status: argv[0] === 'start' ? 201 : 200, body: answer }]);
    expect(await runEvalCommand([...argv, '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual(answer);
  });

  it('promote prints the promotion with its verdicts, the verdict lines on stderr; rejected by the gates it still exits 1', async () => {
    const f = fakeDeps([{ status: 201, body: promotion }]);
    expect(await runPromoteCommand(['m', '2', '--alias', 'champion', '--reason', 'better', '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual(promotion);
    expect(f.err).toContain('pass  metrics: metrics reason');
    const rejected = { ...promotion, status: 'rejected', verdicts: verdicts(['consent']) };
    const g = fakeDeps([{ status: 201, body: rejected }]);
    expect(await runPromoteCommand(['m', '2', '--alias', 'champion', '--reason', 'better', '--json'], g.deps)).toBe(1);
    expect(onlyJson(g.out)).toEqual(rejected);
  });

  it('approve prints the decided promotion, approve pending the waiting ones', async () => {
    const f = fakeDeps([
      { status: 200, body: { ...promotion, status: 'approved' } },
      { status: 200, body: [promotion] },
    ]);
    expect(await runApproveCommand(['P1', '--comment', 'ok', '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual({ ...promotion, status: 'approved' });
    f.out.length = 0;
    expect(await runApproveCommand(['pending', '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual([promotion]);
  });

  it('leaves stdout empty when the platform refuses, with the same exit code', async () => {
    const f = fakeDeps([{ status: 404, body: { error: 'MODEL_NOT_FOUND', message: 'no registered model named "m"' } }]);
    expect(await runModelsCommand(['versions', 'm', '--json'], f.deps)).toBe(3);
    expect(f.out).toEqual([]);
  });

  it('is in every usage', () => {
    const usages = [
      ...Object.values(modelsCommand.subcommands!),
      ...Object.values(evalCommand.subcommands!),
      promoteCommand.usage,
      ...approveCommand.usage.split('\n\n'),
    ];
    for (const usage of usages) expect(usage.split('\nexample:')[0]).toContain('[--json]');
  });
});
