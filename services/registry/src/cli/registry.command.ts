/**
 * `trellis models`, `trellis eval`, `trellis promote` and `trellis approve`: the model registry
 * against a running platform's (or registry's) REST API (TRELLIS_URL, TRELLIS_TOKEN).
 */
import {
  bodyOf,
  CliCommand,
  CliUsageError,
  commandUsage,
  emitter,
  expectStatus,
  JSON_SWITCH,
  jsonDocument,
  onlyFlags,
  parseCliArgs,
  positionals,
  queryString,
  reportCliError,
  requireFlag,
  subcommandsUsage,
  TrellisHttpClient,
  wholeNumber,
} from '@trellis/cli';

const MODELS_USAGE = {
  list: `usage: trellis models list [--name PART] [--tag KEY[=VALUE]] [--alias ALIAS] [--json]
  One line per registered model: name, latest version, aliases (with --json, a JSON array).
example:
  trellis models list --alias champion`,
  versions: `usage: trellis models versions NAME [--json]
  One line per version: number, method, run, parameters, aliases, flag (with --json, a JSON array).
example:
  trellis models versions chest-captioner`,
  show: `usage: trellis models show NAME VERSION [--json]
  Prints the version as JSON (with or without --json): run, base model, files and hashes,
  snapshot, parameters by part.
example:
  trellis models show chest-captioner 2`,
  card: `usage: trellis models card NAME VERSION [--intended-use TEXT] [--out-of-scope-use TEXT] [--factors TEXT]
      [--ethical-considerations TEXT] [--caveats TEXT] [--license SPDX] [--json]
  Without options, prints the model card (Markdown). With options, records a new revision of those
  fields first (the others are kept), then prints the card. With --json: { edited, card }, edited
  being the platform's answer to the edit (null without one) and card the Markdown.
example:
  trellis models card chest-captioner 2 --intended-use "Draft captions for radiologist review" --license apache-2.0`,
  tag: `usage: trellis models tag NAME VERSION KEY=VALUE... [--remove KEY] [--json]
  Tags a version (a version itself never changes); prints its tags (with --json, the version).
example:
  trellis models tag chest-captioner 2 dataset=chest-2026`,
  archive: `usage: trellis models archive NAME VERSION --reason TEXT [--json]
  Archives a version (deleting means archiving, recorded); with --json, prints the platform's answer.
example:
  trellis models archive chest-captioner 1 --reason "superseded"`,
  aliases: `usage: trellis models aliases NAME [--alias ALIAS] [--at ISO_DATE_TIME] [--json]
  Every move of the model's aliases with who made it and why; with --at, who held each alias then
  (with --json, { moves, holders }).
example:
  trellis models aliases chest-captioner --alias champion --at 2026-12-01T12:00:00Z`,
  rollback: `usage: trellis models rollback NAME ALIAS --reason TEXT [--json]
  Moves the alias back to its previous holder (neither archived nor flagged); with --json, prints
  the platform's answer.
example:
  trellis models rollback chest-captioner champion --reason "regression in review"`,
  demote: `usage: trellis models demote NAME ALIAS --reason TEXT [--json]
  Takes the alias off its version: back to the last holder neither archived nor flagged, or off the
  model; with --json, prints the platform's answer.
example:
  trellis models demote chest-captioner champion --reason "consent withdrawn"`,
  retrain: `usage: trellis models retrain NAME VERSION [--json]
  For a flagged version: asks the trainer to retrain its run without the subjects who withdrew;
  with --json, prints the platform's answer.
example:
  trellis models retrain chest-captioner 2`,
};

const EVAL_USAGE = {
  start: `usage: trellis eval start --model NAME --version N --set SET_ID [--seed N] [--max-new-tokens N] [--wait] [--json]
  Evaluates a version on a published annotation set that shares no item or subject with its
  training snapshot; prints the evaluation id. With --wait, waits and prints the metrics. With
  --json, prints the evaluation as JSON instead of its id: as requested, or with --wait as it ended.
example:
  trellis eval start --model chest-captioner --version 2 --set SET_ID --wait`,
  status: `usage: trellis eval status EVALUATION_ID [--json]
  Prints the evaluation as JSON (with or without --json): status, metrics, item count, stored
  predictions.
example:
  trellis eval status EVALUATION_ID`,
  list: `usage: trellis eval list [--model NAME --version N] [--json]
  One line per evaluation, newest first (with --json, a JSON array).
example:
  trellis eval list --model chest-captioner --version 2`,
};

const PROMOTE_USAGE = {
  promote: `usage: trellis promote NAME VERSION --alias ALIAS --reason TEXT [--tolerance X] [--set SET_SHA256] [--json]
  Asks to move the alias to the version: the gates run at once and each verdict is printed; when
  they pass, the promotion waits for a second person (trellis approve). Exit 1 when a gate failed.
  Prints the promotion id; with --json, the promotion with its verdicts.
example:
  trellis promote chest-captioner 2 --alias champion --reason "lower perplexity on the held-out set"`,
};

const APPROVE_USAGE = {
  approve: `usage: trellis approve PROMOTION_ID --comment TEXT [--reject] [--json]
  Approves (or with --reject, rejects) a pending promotion; needs the approver role, and neither
  the promotion's requester nor the requester of the version's run may decide it. With --json,
  prints the promotion as decided.
example:
  trellis approve PROMOTION_ID --comment "checked the predictions"`,
  pending: `usage: trellis approve pending [--json]
  One line per promotion waiting for approval (with --json, a JSON array).
example:
  trellis approve pending`,
};

export interface RegistryCliDeps {
  http(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  out(text: string): void;
  err(text: string): void;
  sleep(ms: number): Promise<void>;
}

const enc = encodeURIComponent;

async function call<T>(deps: RegistryCliDeps, method: string, path: string, body: unknown, ok: number[]): Promise<T> {
  return bodyOf<T>(expectStatus(await deps.http(method, path, body), ok));
}

const CARD_FLAGS: Record<string, string> = {
  'intended-use': 'intendedUse',
  'out-of-scope-use': 'outOfScopeUse',
  factors: 'factors',
  'ethical-considerations': 'ethicalConsiderations',
  caveats: 'caveats',
  license: 'license',
};

interface Version {
  version: number;
  method: string;
  source: { kind: string; runId?: string };
  parameters: { total: number };
  aliases: string[];
  flag: { subjects: number; items: number } | null;
  archived: unknown;
}

export async function runModelsCommand(argv: string[], deps: RegistryCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, switches } = parseCliArgs(rest, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const emit = emitter(deps.out, switches.has(JSON_SWITCH));
    switch (sub) {
      case 'list': {
        positionals(positional, []);
        onlyFlags(flags, ['name', 'tag', 'alias']);
        const models = await call<{ name: string; latestVersion: number | null; aliases: Record<string, number> }[]>(
          deps,
          'GET',
          `/registry/models${queryString({ name: flags.name, tag: flags.tag, alias: flags.alias })}`,
          undefined,
          [200],
        );
        emit(models, () => {
          for (const m of models) {
            const aliases = Object.entries(m.aliases).map(([a, v]) => `${a}=v${v}`);
            deps.out(`${m.name}  latest v${m.latestVersion ?? '-'}  ${aliases.join(' ')}`.trimEnd());
          }
        });
        return 0;
      }
      case 'versions': {
        const [name] = positionals(positional, ['NAME']);
        onlyFlags(flags, []);
        const versions = await call<Version[]>(deps, 'GET', `/registry/models/${enc(name)}/versions`, undefined, [200]);
        emit(versions, () => {
          for (const v of versions) {
            const notes = [v.aliases.join(','), v.flag ? `FLAGGED (${v.flag.subjects} subject(s) withdrew; retrain)` : '', v.archived ? 'archived' : ''].filter(
              Boolean,
            );
            deps.out(`v${v.version}  ${v.method.padEnd(7)}  ${v.source.runId ?? 'manual'}  ${v.parameters.total} parameters  ${notes.join('  ')}`.trimEnd());
          }
        });
        return 0;
      }
      case 'show': {
        const [name, version] = positionals(positional, ['NAME', 'VERSION']);
        onlyFlags(flags, []);
        deps.out(jsonDocument(await call(deps, 'GET', `/registry/models/${enc(name)}/versions/${wholeNumber(version, 'VERSION')}`, undefined, [200])));
        return 0;
      }
      case 'card': {
        const [name, version] = positionals(positional, ['NAME', 'VERSION']);
        onlyFlags(flags, Object.keys(CARD_FLAGS));
        const path = `/registry/models/${enc(name)}/versions/${wholeNumber(version, 'VERSION')}/card`;
        const edits = Object.fromEntries(Object.entries(flags).map(([f, v]) => [CARD_FLAGS[f], v]));
        let edited: { revision: number } | null = null;
        if (Object.keys(edits).length > 0) {
          edited = await call<{ revision: number }>(deps, 'PUT', path, edits, [200]);
          deps.err(`card revision ${edited.revision} recorded`);
        }
        const card = await call<string>(deps, 'GET', path, undefined, [200]);
        emit({ edited, card }, () => deps.out(card));
        return 0;
      }
      case 'tag': {
        if (positional.length < 2) throw new CliUsageError(positional.length === 0 ? 'NAME is required' : 'VERSION is required');
        const [name, version, ...pairs] = positional;
        onlyFlags(flags, ['remove']);
        const tags: Record<string, string | null> = {};
        for (const p of pairs) {
          const at = p.indexOf('=');
          if (at < 1) throw new CliUsageError(`tags are KEY=VALUE, got ${JSON.stringify(p)}`);
          tags[p.slice(0, at)] = p.slice(at + 1);
        }
        if (flags.remove) tags[flags.remove] = null;
        if (Object.keys(tags).length === 0) throw new CliUsageError('give at least one KEY=VALUE or --remove KEY');
        const v = await call<{ tags: Record<string, string> }>(
          deps,
          'PATCH',
          `/registry/models/${enc(name)}/versions/${wholeNumber(version, 'VERSION')}`,
          { tags },
          [200],
        );
        emit(v, () => deps.out(JSON.stringify(v.tags)));
        return 0;
      }
      case 'archive': {
        const [name, version] = positionals(positional, ['NAME', 'VERSION']);
        onlyFlags(flags, ['reason']);
        const archived = await call(
          deps,
          'POST',
          `/registry/models/${enc(name)}/versions/${wholeNumber(version, 'VERSION')}/archive`,
          { reason: requireFlag(flags, 'reason') },
          [200],
        );
        emit(archived, () => deps.out(`archived ${name} v${version}`));
        return 0;
      }
      case 'aliases': {
        const [name] = positionals(positional, ['NAME']);
        onlyFlags(flags, ['alias', 'at']);
        const h = await call<{
          moves: { alias: string; version: number | null; kind: string; movedBy: string; reason: string; movedAt: string }[];
          holders: Record<string, { version: number; movedBy: string; movedAt: string }>;
        }>(deps, 'GET', `/registry/models/${enc(name)}/aliases${queryString({ alias: flags.alias, at: flags.at })}`, undefined, [200]);
        emit(h, () => {
          for (const m of h.moves)
            deps.out(`${m.movedAt}  ${m.alias} -> ${m.version === null ? '(none)' : `v${m.version}`}  ${m.kind} by ${m.movedBy}: ${m.reason}`);
        });
        for (const [alias, holder] of Object.entries(h.holders))
          deps.err(`${alias} ${flags.at ? `at ${flags.at}` : 'now'}: v${holder.version}, moved there by ${holder.movedBy} at ${holder.movedAt}`);
        return 0;
      }
      case 'rollback':
      case 'demote': {
        const [name, alias] = positionals(positional, ['NAME', 'ALIAS']);
        onlyFlags(flags, ['reason']);
        const r = await call<{ version: number | null }>(
          deps,
          'POST',
          `/registry/models/${enc(name)}/aliases/${enc(alias)}/${sub}`,
          { reason: requireFlag(flags, 'reason') },
          [200],
        );
        emit(r, () => deps.out(r.version === null ? `${alias} removed from ${name}` : `${alias} -> v${r.version}`));
        return 0;
      }
      case 'retrain': {
        const [name, version] = positionals(positional, ['NAME', 'VERSION']);
        onlyFlags(flags, []);
        const r = await call(deps, 'POST', `/registry/models/${enc(name)}/versions/${wholeNumber(version, 'VERSION')}/retrain`, undefined, [200]);
        emit(r, () => deps.out(`retrain of ${name} v${version} requested; follow it with trellis train list`));
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(err, sub && sub in MODELS_USAGE ? `trellis models ${sub}` : 'trellis models', commandUsage(modelsCommand, sub), deps.err);
  }
}

interface EvaluationView {
  evaluationId: string;
  status: string;
  metrics: Record<string, number | null> | null;
  itemCount: number | null;
  failure: { code: string; reason: string } | null;
  requestedAt: string;
}

const metricsLine = (m: Record<string, number | null>) =>
  Object.entries(m)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${Number(v).toFixed(4)}`)
    .join(', ');

export async function runEvalCommand(argv: string[], deps: RegistryCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, switches } = parseCliArgs(rest, { switches: ['wait', JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const json = switches.has(JSON_SWITCH);
    const emit = emitter(deps.out, json);
    switch (sub) {
      case 'start': {
        positionals(positional, []);
        onlyFlags(flags, ['model', 'version', 'set', 'seed', 'max-new-tokens']);
        const body = {
          model: requireFlag(flags, 'model'),
          version: wholeNumber(requireFlag(flags, 'version'), '--version'),
          annotationSet: { setId: requireFlag(flags, 'set') },
          ...(flags.seed !== undefined ? { seed: wholeNumber(flags.seed, '--seed') } : {}),
          ...(flags['max-new-tokens'] !== undefined ? { maxNewTokens: wholeNumber(flags['max-new-tokens'], '--max-new-tokens') } : {}),
        };
        const e = await call<EvaluationView>(deps, 'POST', '/registry/evaluations', body, [201]);
        // With --wait and --json stdout carries only the evaluation as it ended, so the id goes to stderr.
        if (json && switches.has('wait')) deps.err(`requested evaluation ${e.evaluationId}`);
        else emit(e, () => deps.out(e.evaluationId));
        if (!switches.has('wait')) return 0;
        for (;;) {
          const now = await call<EvaluationView>(deps, 'GET', `/registry/evaluations/${enc(e.evaluationId)}`, undefined, [200]);
          if (json && (now.status === 'completed' || now.status === 'failed')) deps.out(jsonDocument(now));
          if (now.status === 'completed') {
            deps.err(`completed on ${now.itemCount} item(s): ${metricsLine(now.metrics!)}`);
            return 0;
          }
          if (now.status === 'failed') {
            deps.err(`failed (${now.failure?.code}): ${now.failure?.reason}`);
            return 1;
          }
          await deps.sleep(1000);
        }
      }
      case 'status': {
        const [id] = positionals(positional, ['EVALUATION_ID']);
        onlyFlags(flags, []);
        deps.out(jsonDocument(await call(deps, 'GET', `/registry/evaluations/${enc(id)}`, undefined, [200])));
        return 0;
      }
      case 'list': {
        positionals(positional, []);
        onlyFlags(flags, ['model', 'version']);
        const list = await call<EvaluationView[]>(
          deps,
          'GET',
          `/registry/evaluations${queryString({ model: flags.model, version: flags.version })}`,
          undefined,
          [200],
        );
        emit(list, () => {
          for (const e of list) deps.out(`${e.evaluationId}  ${e.status.padEnd(9)}  ${e.metrics ? metricsLine(e.metrics) : ''}`.trimEnd());
        });
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(err, sub && sub in EVAL_USAGE ? `trellis eval ${sub}` : 'trellis eval', commandUsage(evalCommand, sub), deps.err);
  }
}

interface PromotionView {
  promotionId: string;
  alias: string;
  status: string;
  requestedBy: string;
  reason: string;
  verdicts: { gate: string; passed: boolean; reason: string }[] | null;
}

export async function runPromoteCommand(argv: string[], deps: RegistryCliDeps): Promise<number> {
  try {
    const { positional, flags, switches } = parseCliArgs(argv, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const emit = emitter(deps.out, switches.has(JSON_SWITCH));
    const [name, version] = positionals(positional, ['NAME', 'VERSION']);
    onlyFlags(flags, ['alias', 'reason', 'tolerance', 'set']);
    const tolerance = flags.tolerance === undefined ? undefined : Number(flags.tolerance);
    if (tolerance !== undefined && !Number.isFinite(tolerance)) throw new CliUsageError(`--tolerance must be a number, got ${JSON.stringify(flags.tolerance)}`);
    const body = {
      model: name,
      version: wholeNumber(version, 'VERSION'),
      alias: requireFlag(flags, 'alias'),
      reason: requireFlag(flags, 'reason'),
      ...(tolerance !== undefined ? { tolerance } : {}),
      ...(flags.set ? { evaluationSetSha256: flags.set } : {}),
    };
    const p = await call<PromotionView>(deps, 'POST', '/registry/promotions', body, [201]);
    for (const v of p.verdicts ?? []) deps.err(`${v.passed ? 'pass' : 'FAIL'}  ${v.gate}: ${v.reason}`);
    emit(p, () => deps.out(p.promotionId));
    deps.err(p.status === 'pending' ? 'waiting for approval by a second person: trellis approve PROMOTION_ID' : `rejected by the gates`);
    return p.status === 'pending' ? 0 : 1;
  } catch (err) {
    return reportCliError(err, 'trellis promote', commandUsage(promoteCommand, undefined), deps.err);
  }
}

export async function runApproveCommand(argv: string[], deps: RegistryCliDeps): Promise<number> {
  try {
    const { positional, flags, switches } = parseCliArgs(argv, { switches: ['reject', JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const emit = emitter(deps.out, switches.has(JSON_SWITCH));
    if (positional[0] === 'pending') {
      positionals(positional, ['pending']);
      onlyFlags(flags, []);
      const pending = await call<PromotionView[]>(deps, 'GET', '/registry/promotions?status=pending', undefined, [200]);
      emit(pending, () => {
        for (const p of pending) deps.out(`${p.promotionId}  ${p.alias}  asked by ${p.requestedBy}: ${p.reason}`);
      });
      return 0;
    }
    const [id] = positionals(positional, ['PROMOTION_ID']);
    onlyFlags(flags, ['comment']);
    const verb = switches.has('reject') ? 'reject' : 'approve';
    const p = await call<PromotionView>(deps, 'POST', `/registry/promotions/${enc(id)}/${verb}`, { comment: requireFlag(flags, 'comment') }, [200]);
    emit(p, () => deps.out(`${p.status}: ${p.alias}`));
    return 0;
  } catch (err) {
    return reportCliError(err, 'trellis approve', commandUsage(approveCommand, undefined), deps.err);
  }
}

export function defaultRegistryDeps(env: NodeJS.ProcessEnv = process.env): RegistryCliDeps {
  const client = new TrellisHttpClient(env.TRELLIS_URL || 'http://127.0.0.1:3000', env.TRELLIS_TOKEN);
  return {
    http: (method, path, body) => client.send(method, path, body),
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

export const modelsCommand: CliCommand = {
  summary: 'registered models: list, versions, show, card, tag, archive, aliases, rollback, demote, retrain',
  usage: subcommandsUsage('models', MODELS_USAGE),
  subcommands: MODELS_USAGE,
  run: (argv) => runModelsCommand(argv, defaultRegistryDeps()),
};

export const evalCommand: CliCommand = {
  summary: 'evaluations of model versions on held-out annotation sets: start, status, list',
  usage: subcommandsUsage('eval', EVAL_USAGE),
  subcommands: EVAL_USAGE,
  run: (argv) => runEvalCommand(argv, defaultRegistryDeps()),
};

export const promoteCommand: CliCommand = {
  summary: 'ask to move an alias (champion, candidate, ...) to a version: the gates run, a second person approves',
  usage: PROMOTE_USAGE.promote,
  run: (argv) => runPromoteCommand(argv, defaultRegistryDeps()),
};

export const approveCommand: CliCommand = {
  summary: 'approve or reject a pending promotion (approver role, a second person); pending lists them',
  usage: [APPROVE_USAGE.approve, APPROVE_USAGE.pending.replace(/^usage: /, '')].join('\n\n'),
  run: (argv) => runApproveCommand(argv, defaultRegistryDeps()),
};
