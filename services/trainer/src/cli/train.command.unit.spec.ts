import { jsonDocument } from '@trellis/cli';
import { baseModelCommand, runBaseModelCommand, runTrainCommand, startBody, trainCommand, TrainCliDeps } from './train.command';

const runId = '01930000-0000-7000-8000-000000000001';

/** Fake outside world: answers in order, records requests and output. */
function fakeDeps(answers: { status: number; body: unknown }[]) {
  const requests: { method: string; path: string; json?: unknown }[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const bars: number[] = [];
  const deps: TrainCliDeps = {
    http: async (method, path, json) => {
      requests.push({ method, path, json });
      const a = answers.shift();
      if (!a) throw new Error(`unexpected request ${method} ${path}`);
      return { status: a.status, text: JSON.stringify(a.body) };
    },
    checkpointFiles: async () => [],
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    sleep: async () => undefined,
    progress: () => ({ update: (done) => bars.push(done), finish: () => undefined }),
  };
  return { deps, requests, out, err, bars };
}

/** stdout of a --json run: exactly one JSON document, pretty-printed, and nothing else. */
function onlyJson(out: string[]): unknown {
  expect(out).toHaveLength(1);
  expect(out[0]).toBe(jsonDocument(JSON.parse(out[0])));
  return JSON.parse(out[0]);
}

const run = (status: string, step: number, extra: object = {}) => ({
  runId,
  status,
  step,
  totalSteps: 10,
  lastProgress: step ? { loss: 1.5, heldOutLoss: null, tokensPerSecond: 100 } : null,
  outcome: null,
  snapshot: null,
  ...extra,
});

describe('startBody', () => {
  it('turns flags into the request body, leaving out what was not given', () => {
    const body = startBody(
      { 'base-model': 'B', method: 'lora', sets: 'S1, S2', 'held-out': '0.25', rank: '4', targets: 'q_proj,k_proj', steps: '50' },
      new Set(['rslora']),
    );
    expect(body).toEqual({
      baseModelId: 'B',
      method: 'lora',
      annotationSets: [{ setId: 'S1' }, { setId: 'S2' }],
      evaluation: { heldOutFraction: 0.25 },
      hyperparameters: { loraRank: 4, targetModules: ['q_proj', 'k_proj'], rslora: true, steps: 50 },
    });
  });

  it('refuses unknown options, missing required ones, non-numbers and both evaluation kinds', () => {
    expect(() => startBody({ 'base-model': 'B', method: 'lora', sets: 'S', rnak: '4' }, new Set())).toThrow('unknown option --rnak');
    expect(() => startBody({ method: 'lora', sets: 'S' }, new Set())).toThrow('--base-model is required');
    expect(() => startBody({ 'base-model': 'B', method: 'lora', sets: 'S', lr: 'fast' }, new Set())).toThrow('--lr must be a number');
    expect(() => startBody({ 'base-model': 'B', method: 'lora', sets: 'S', 'held-out': '0.2', 'eval-sets': 'E' }, new Set())).toThrow('not both');
  });
});

describe('runTrainCommand', () => {
  it('start --wait prints the run id, follows progress and exits 0 when the run completed', async () => {
    const f = fakeDeps([
      { status: 201, body: run('requested', 0) },
      { status: 200, body: run('running', 4) },
      { status: 200, body: run('completed', 10, { outcome: { finalHeldOutLoss: 1.2, baseHeldOutLoss: 2.5, artifacts: [{ name: 'a', sha256: 'x' }] } }) },
    ]);
    expect(await runTrainCommand(['start', '--base-model', 'B', '--method', 'lora', '--sets', 'S', '--wait'], f.deps)).toBe(0);
    expect(f.out).toEqual([runId]);
    expect(f.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /training/runs', `GET /training/runs/${runId}`, `GET /training/runs/${runId}`]);
    expect(f.bars).toEqual([4, 10]);
    expect(f.err.join('\n')).toContain('held-out loss 1.2 (base 2.5)');
  });

  it('wait exits 1 for a failed run and says why', async () => {
    const f = fakeDeps([{ status: 200, body: run('failed', 3, { outcome: { code: 'DIVERGED', reason: 'loss is NaN at step 3' } }) }]);
    expect(await runTrainCommand(['wait', runId], f.deps)).toBe(1);
    expect(f.err.join('\n')).toContain('failed (DIVERGED): loss is NaN at step 3');
  });

  it('exits 3 with the platform’s message when a request is refused, and 2 on bad usage', async () => {
    const f = fakeDeps([
      { status: 400, body: { statusCode: 400, error: 'INVALID_REQUEST', reason: 'INVALID_REQUEST', message: 'body.hyperparameters.loraRank: at least 1' } },
    ]);
    expect(await runTrainCommand(['start', '--base-model', 'B', '--method', 'lora', '--sets', 'S', '--rank', '0'], f.deps)).toBe(3);
    expect(f.err.join('\n')).toContain('loraRank: at least 1');
    const g = fakeDeps([]);
    expect(await runTrainCommand(['status'], g.deps)).toBe(2);
    expect(await runTrainCommand(['frobnicate'], g.deps)).toBe(2);
  });
});

describe('runBaseModelCommand', () => {
  it('create prints the new base model id and its loss drop', async () => {
    const f = fakeDeps([
      { status: 201, body: { baseModelId: 'M', architecture: { parameters: 1234 }, pretraining: { initialHeldOutLoss: 6.2, finalHeldOutLoss: 2.1 } } },
    ]);
    expect(await runBaseModelCommand(['create', '--preset', 'tiny', '--seed', '3'], f.deps)).toBe(0);
    expect(f.requests[0]).toEqual({ method: 'POST', path: '/training/base-models', json: { preset: 'tiny', seed: 3 } });
    expect(f.out).toEqual(['M']);
    expect(f.err.join('\n')).toContain('6.200 -> 2.100');
  });
});

describe('--json', () => {
  const completed = run('completed', 10, { outcome: { finalHeldOutLoss: 1.2, baseHeldOutLoss: 2.5, artifacts: [] } });

  it('train start --wait prints only the run as it ended; the id, the progress and the verdict stay on stderr', async () => {
    const f = fakeDeps([
      { status: 201, body: run('requested', 0) },
      { status: 200, body: run('running', 4) },
      { status: 200, body: completed },
    ]);
    expect(await runTrainCommand(['start', '--base-model', 'B', '--method', 'lora', '--sets', 'S', '--wait', '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual(completed);
    expect(f.bars).toEqual([4, 10]);
    expect(f.err).toEqual([`requested run ${runId}`, 'completed: held-out loss 1.2 (base 2.5); 0 artifacts']);
  });

  it('train wait prints the failed run as JSON and still exits 1', async () => {
    const failed = run('failed', 3, { outcome: { code: 'DIVERGED', reason: 'loss is NaN at step 3' } });
    const f = fakeDeps([{ status: 200, body: failed }]);
    expect(await runTrainCommand(['wait', runId, '--json'], f.deps)).toBe(1);
    expect(onlyJson(f.out)).toEqual(failed);
    expect(f.err).toEqual(['failed (DIVERGED): loss is NaN at step 3']);
  });

  it.each([
    [['start', '--base-model', 'B', '--method', 'lora', '--sets', 'S'], run('requested', 0)],
    [['status', runId], run('running', 4)],
    [['cancel', runId], run('cancelled', 4)],
    [['retrain-excluding-withdrawn', runId], run('requested', 0, { runId: 'R2' })],
    [['list', '--status', 'running'], [{ ...run('running', 4), method: 'lora' }]],
  ])("train %j prints the platform's answer", async (argv, answer) => {
    const f = fakeDeps([{ status: argv[0] === 'start' || argv[0] === 'retrain-excluding-withdrawn' ? 201 : 200, body: answer }]);
    expect(await runTrainCommand([...argv, '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual(answer);
  });

  it.each([
    [['create', '--preset', 'tiny'], { baseModelId: 'M', architecture: { parameters: 1234 }, pretraining: null }],
    [['import', 'ckpt'], { baseModelId: 'M2', architecture: { parameters: 99 } }],
    [['list'], [{ baseModelId: 'M', preset: 'tiny', architecture: { parameters: 1234 }, registeredAt: '2026-12-01T00:00:00.000Z' }]],
  ])("base-model %j prints the platform's answer", async (argv, answer) => {
    const f = fakeDeps([{ status: argv[0] === 'list' ? 200 : 201, body: answer }]);
    f.deps.checkpointFiles = async () => [{ name: 'config.json', bytes: Buffer.from('{}') }];
    expect(await runBaseModelCommand([...argv, '--json'], f.deps)).toBe(0);
    expect(onlyJson(f.out)).toEqual(answer);
  });

  it('leaves stdout empty on an error, with the same exit code', async () => {
    const f = fakeDeps([{ status: 404, body: { error: 'RUN_NOT_FOUND', message: 'no such run' } }]);
    expect(await runTrainCommand(['wait', runId, '--json'], f.deps)).toBe(3);
    expect(f.out).toEqual([]);
    expect(f.err).toEqual(['trellis train wait: 404 RUN_NOT_FOUND: no such run']);
  });

  it('is in every subcommand’s usage', () => {
    for (const command of [trainCommand, baseModelCommand]) {
      for (const usage of Object.values(command.subcommands!)) expect(usage.split('\nexample:')[0]).toContain('[--json]');
    }
  });
});
