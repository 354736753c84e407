import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEMO } from '../../services/platform/src/demo/demo-journey';

const ROOT = join(__dirname, '..', '..');

/** An API token from the platform's database, as `npm run token -- create` makes one (bin/trellis.js, so without npm's start-up). */
export function createToken(env: NodeJS.ProcessEnv, roles: string, label: string): string {
  const r = spawnSync(process.execPath, ['bin/trellis.js', 'token', 'create', '--roles', roles, '--label', label], { cwd: ROOT, env, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n').pop()!;
}

/** `npm run lineage:rebuild -- --check` against the platform `env` names: the live graph equals a replay of every log. */
export function expectLineageEqualsReplay(env: NodeJS.ProcessEnv): void {
  const rebuild = spawnSync('npm', ['run', '-s', 'lineage:rebuild', '--', '--check'], { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
  // Its account says what differs: shown when it fails.
  if (rebuild.status !== 0) throw new Error(`lineage:rebuild --check exited ${rebuild.status}:\n${rebuild.stdout}${rebuild.stderr}`);
}

/**
 * What must hold after the demo's journey, asked through the public HTTP and GraphQL APIs with
 * a token holding the steward, engineer and auditor roles: the champion's provenance reaches every
 * asset and consent of its snapshot, the withdrawn subject's impact lists the flagged champion,
 * and every event the journey makes was recorded exactly once (nothing lost, nothing doubled),
 * however often the journey ran or its services were killed. `subjectsBefore`: subjects the
 * platform had registered before the demo (none of them with consent).
 */
export async function checkJourney(url: string, token: string, withdrawnSubjectId: string, subjectsBefore = 0): Promise<void> {
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect([path, r.status]).toEqual([path, 200]);
    return (await r.json()) as T;
  };
  const graphql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await r.json()) as { data: T; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  // One version, champion, flagged; one run, completed.
  const versions = await get<{ version: number; modelVersionId: string; aliases: string[]; flag: { subjects: number } | null }[]>(
    `/registry/models/${DEMO.model}/versions`,
  );
  expect(versions.map((v) => [v.version, v.aliases, v.flag?.subjects])).toEqual([[1, ['champion'], 1]]);
  const runs = (
    await get<{ status: string; request: { modelName: string | null }; snapshot: { includedItems: number; includedSubjects: number } }[]>(
      '/training/runs?limit=100',
    )
  ).filter((r) => r.request.modelName === DEMO.model);
  expect(runs.map((r) => r.status)).toEqual(['completed']);
  const { includedItems, includedSubjects } = runs[0].snapshot;
  expect(includedItems).toBeGreaterThan(0);

  // The champion's provenance reaches every asset of its snapshot and every subject's consent
  // (each synthetic subject gave one), through one dataset version and one annotation set.
  const id = versions[0].modelVersionId;
  const { modelProvenance: p } = await graphql<{
    modelProvenance: {
      assets: number;
      subjects: number;
      consents: number;
      approvers: string[];
      datasetVersions: { totalCount: number };
      annotationSets: { totalCount: number };
    };
  }>(
    `
      query ($id: ID!) {
        modelProvenance(modelVersionId: $id) {
          assets
          subjects
          consents
          approvers
          datasetVersions(first: 1) {
            totalCount
          }
          annotationSets(first: 1) {
            totalCount
          }
        }
      }
    `,
    { id },
  );
  expect(p).toEqual({
    assets: includedItems,
    subjects: includedSubjects,
    consents: includedSubjects,
    approvers: [expect.stringMatching(/^prn-/)],
    datasetVersions: { totalCount: 1 },
    annotationSets: { totalCount: 1 },
  });
  const { lineage } = await graphql<{ lineage: { nodes: { type: string }[] } }>(
    `
      query ($id: ID!) {
        lineage(id: $id, direction: UPSTREAM, depth: 3) {
          nodes {
            type
          }
        }
      }
    `,
    { id: `model-version:${id}` },
  );
  // model version -> snapshot -> curated asset -> raw asset: one of each per item.
  expect(lineage.nodes.filter((n) => n.type === 'curated-asset')).toHaveLength(includedItems);

  // The withdrawn subject's impact names the champion, flagged.
  const { consentImpact } = await graphql<{ consentImpact: { modelVersions: { edges: { node: { id: string; states: string } }[] } } }>(
    `
      query ($s: ID!) {
        consentImpact(subjectId: $s) {
          modelVersions(first: 10) {
            edges {
              node {
                id
                states
              }
            }
          }
        }
      }
    `,
    { s: withdrawnSubjectId },
  );
  expect(consentImpact.modelVersions.edges.map((e) => [e.node.id, JSON.parse(e.node.states)['flag:consent-withdrawn']?.subjects])).toEqual([
    [`model-version:${id}`, 1],
  ]);

  // Every event of the journey, once.
  const count = async (type: string) =>
    (await graphql<{ auditTrail: { edges: unknown[] } }>('query ($t: String) { auditTrail(type: $t, first: 1000) { edges { cursor } } }', { t: type }))
      .auditTrail.edges.length;
  const expected: Record<string, number> = {
    SubjectRegistered: subjectsBefore + DEMO.subjects,
    ConsentRecorded: DEMO.subjects,
    // The synthetic data set's two withdrawn subjects, and the demo's one.
    ConsentWithdrawn: 3,
    AssetIngested: 48,
    DatasetVersionPublished: 2,
    AnnotationProjectCreated: 2,
    AnnotationSetPublished: 2,
    BaseModelRegistered: 1,
    TrainingRequested: 1,
    TrainingSnapshotFrozen: 1,
    TrainingCompleted: 1,
    ModelVersionRegistered: 1,
    EvaluationCompleted: 1,
    ModelCardEdited: 1,
    PromotionApproved: 1,
    AliasMoved: 1,
    ModelVersionFlagged: 1,
  };
  const counted: Record<string, number> = {};
  for (const type of Object.keys(expected)) counted[type] = await count(type);
  expect(counted).toEqual(expected);
  // Each of the 24 items (18 for training, 6 held out) became final exactly once.
  expect((await count('ItemAccepted')) + (await count('ItemAdjudicated'))).toBe(24);
}

/** The pseudonymous id of the subject the demo withdrew, from its account. */
export function withdrawnSubjectOf(output: string): string {
  const m = /subject ([0-9a-f-]{36}) (?:\(pseudonymous id\) withdrew|has withdrawn already)/.exec(output);
  if (!m) throw new Error(`the demo named no withdrawn subject:\n${output}`);
  return m[1];
}
