import {
  agreementSummary,
  type AnnotationEvent,
  type AnnotationSetArtifactItem,
  type DatasetManifest,
  type EventEnvelope,
  type IngestionEvent,
  type RegistryEvent,
  type TrainerEvent,
} from '@trellis/contracts';

/**
 * What one event adds to the lineage graph, as data: the projection writes it, the specs read it.
 * Pure: the artifacts an event names (a dataset version's manifest, an annotation set, a snapshot
 * manifest) are read by the caller and handed in.
 */
export type NodeClass = 'entity' | 'activity' | 'agent';
export type EdgeType = 'used' | 'wasGeneratedBy' | 'wasDerivedFrom' | 'wasAssociatedWith' | 'wasAttributedTo' | 'actedOnBehalfOf';

export type GraphChange =
  | { kind: 'node'; id: string; type: string; class: NodeClass; label: string; attrs: Record<string, unknown> }
  | { kind: 'edge'; from: string; type: EdgeType; to: string; attrs?: Record<string, unknown> }
  | { kind: 'state'; node: string; key: string; value: unknown };

/** Node ids: `<type>:<natural id>`, the same whichever event names the node first. */
export const ids = {
  subject: (id: string) => `subject:${id.toLowerCase()}`,
  consent: (id: string) => `consent:${id}`,
  asset: (id: string) => `asset:${id}`,
  curated: (id: string) => `curated-asset:${id}`,
  ingestion: (id: string) => `ingestion:${id}`,
  deidentification: (id: string) => `deidentification:${id}`,
  datasetVersion: (datasetId: string, version: number) => `dataset-version:${datasetId}@${version}`,
  annotationSet: (setId: string) => `annotation-set:${setId}`,
  annotation: (setId: string) => `annotation:${setId}`,
  baseModel: (id: string) => `base-model:${id}`,
  training: (runId: string) => `training:${runId}`,
  snapshot: (runId: string) => `snapshot:${runId}`,
  checkpoint: (runId: string, step: number) => `checkpoint:${runId}@${step}`,
  model: (id: string) => `model:${id}`,
  modelVersion: (id: string) => `model-version:${id}`,
  evaluationRun: (id: string) => `evaluation-run:${id}`,
  evaluation: (id: string) => `evaluation:${id}`,
  promotion: (id: string) => `promotion:${id}`,
  person: (principalId: string) => `person:${principalId}`,
  openLineageRun: (runId: string) => `openlineage-run:${runId.toLowerCase()}`,
  openLineageJob: (namespace: string, name: string) => `openlineage-job:${namespace}/${name}`,
  openLineageDataset: (namespace: string, name: string) => `openlineage-dataset:${namespace}/${name}`,
  service: (name: string) => `service:${name}`,
};

/** The agent an event's actor stands for: a service acting on its own, or a person (pseudonymous). */
export function agentOf(actor: EventEnvelope['actor']): GraphChange {
  return actor.role === 'service'
    ? { kind: 'node', id: ids.service(actor.id), type: 'service', class: 'agent', label: actor.id, attrs: {} }
    : { kind: 'node', id: ids.person(actor.id), type: 'person', class: 'agent', label: actor.id, attrs: {} };
}

const agentId = (actor: EventEnvelope['actor']) => (actor.role === 'service' ? ids.service(actor.id) : ids.person(actor.id));
const node = (id: string, type: string, cls: NodeClass, label: string, attrs: Record<string, unknown> = {}): GraphChange => ({
  kind: 'node',
  id,
  type,
  class: cls,
  label,
  attrs,
});
const edge = (from: string, type: EdgeType, to: string, attrs?: Record<string, unknown>): GraphChange => ({
  kind: 'edge',
  from,
  type,
  to,
  ...(attrs ? { attrs } : {}),
});
const state = (nodeId: string, key: string, value: unknown): GraphChange => ({ kind: 'state', node: nodeId, key, value });
const person = (principalId: string) => node(ids.person(principalId), 'person', 'agent', principalId);

/** The actor ids the services' own events carry, so a service is one agent whichever event names it. */
export const SERVICE_AGENTS = { ingestion: 'ingestion', trainer: 'trainer-service', registry: 'registry-service' } as const;

/**
 * A service carries out an activity a person asked for: the service is associated with the
 * activity and acted on behalf of the person (PROV delegation; the first such activity is kept on
 * the edge). A service acting on its own account delegates nothing.
 */
function delegated(activity: string, service: string, actor: EventEnvelope['actor']): GraphChange[] {
  const agent = node(ids.service(service), 'service', 'agent', service);
  const performs = edge(activity, 'wasAssociatedWith', ids.service(service), { role: 'performer' });
  if (actor.role === 'service') return [agent, performs];
  return [agent, performs, edge(ids.service(service), 'actedOnBehalfOf', ids.person(actor.id), { activity })];
}

export function ingestionChanges(envelope: EventEnvelope, manifest?: DatasetManifest): GraphChange[] {
  const event = { type: envelope.type, data: envelope.data } as IngestionEvent;
  switch (event.type) {
    case 'SubjectRegistered':
      return [node(ids.subject(event.data.subjectId), 'subject', 'entity', event.data.subjectId)];
    case 'ConsentRecorded': {
      const d = event.data;
      const c = ids.consent(d.consentId);
      return [
        node(c, 'consent', 'entity', `${d.decision} ${d.purposes.join(', ')}`, {
          decision: d.decision,
          purposes: d.purposes,
          period: d.period,
          fhirVersion: d.fhirVersion,
        }),
        edge(c, 'wasDerivedFrom', ids.subject(d.subjectId)),
        edge(c, 'wasAttributedTo', agentId(envelope.actor)),
        agentOf(envelope.actor),
        state(c, 'status', d.status),
      ];
    }
    case 'ConsentWithdrawn':
      return [state(ids.consent(event.data.consentId), 'withdrawn', event.data.purposes)];
    case 'SubjectErased':
      return [state(ids.subject(event.data.subjectId), 'erased', { reason: event.data.reason, assets: event.data.assetCount })];
    case 'AssetIngested': {
      const d = event.data;
      const raw = ids.asset(d.assetId);
      const curated = ids.curated(d.assetId);
      const ingestion = ids.ingestion(d.assetId);
      const deid = ids.deidentification(d.assetId);
      return [
        node(raw, 'asset', 'entity', `${d.kind} ${d.sha256.slice(0, 12)}`, { kind: d.kind, mimeType: d.mimeType, sha256: d.sha256, size: d.size }),
        node(curated, 'curated-asset', 'entity', `curated ${d.kind} ${d.storage.curatedSha256.slice(0, 12)}`, {
          kind: d.kind,
          sha256: d.storage.curatedSha256,
          derivativeSha256: d.storage.derivativeSha256,
        }),
        node(ingestion, 'ingestion', 'activity', `ingestion of ${d.assetId}`),
        node(deid, 'deidentification', 'activity', `de-identification (${d.deidentification.method})`, {
          method: d.deidentification.method,
          options: d.deidentification.options,
          summary: d.deidentification.summary,
        }),
        agentOf(envelope.actor),
        edge(raw, 'wasDerivedFrom', ids.subject(d.subjectId)),
        edge(raw, 'wasGeneratedBy', ingestion),
        edge(ingestion, 'wasAssociatedWith', agentId(envelope.actor)),
        edge(curated, 'wasDerivedFrom', raw),
        edge(curated, 'wasGeneratedBy', deid),
        edge(deid, 'used', raw),
        ...delegated(deid, SERVICE_AGENTS.ingestion, envelope.actor),
      ];
    }
    case 'DatasetVersionPublished': {
      const d = event.data;
      const dv = ids.datasetVersion(d.datasetId, d.version);
      return [
        node(dv, 'dataset-version', 'entity', `${d.name} v${d.version}`, {
          datasetId: d.datasetId,
          version: d.version,
          merkleRoot: d.merkleRoot,
          members: d.memberCount,
        }),
        agentOf(envelope.actor),
        edge(dv, 'wasAttributedTo', agentId(envelope.actor)),
        ...(manifest?.members ?? []).map((m) => edge(dv, 'wasDerivedFrom', ids.curated(m.assetId))),
      ];
    }
    default:
      return [];
  }
}

export function annotationChanges(envelope: EventEnvelope, items?: AnnotationSetArtifactItem[]): GraphChange[] {
  const event = { type: envelope.type, data: envelope.data } as AnnotationEvent;
  if (event.type !== 'AnnotationSetPublished') return [];
  const d = event.data;
  const set = ids.annotationSet(d.setId);
  const activity = ids.annotation(d.setId);
  const annotators = [...new Set((items ?? []).flatMap((i) => i.annotators))].sort();
  const reviewers = [...new Set((items ?? []).flatMap((i) => i.reviewers))].sort();
  const agreement = agreementSummary(items ?? []);
  return [
    node(set, 'annotation-set', 'entity', `annotation set v${d.version} of project ${d.projectId}`, {
      projectId: d.projectId,
      version: d.version,
      contentSha256: d.contentSha256,
      items: d.itemCount,
      leftOut: d.leftOut,
      meanItemAgreement: agreement.meanItemAgreement,
      adjudicated: agreement.adjudicated,
    }),
    node(activity, 'annotation', 'activity', `annotation of set v${d.version}`),
    edge(set, 'wasGeneratedBy', activity),
    edge(set, 'wasDerivedFrom', ids.datasetVersion(d.datasetId, d.datasetVersion)),
    edge(activity, 'used', ids.datasetVersion(d.datasetId, d.datasetVersion)),
    ...annotators.flatMap((p) => [person(p), edge(activity, 'wasAssociatedWith', ids.person(p), { role: 'annotator' })]),
    ...reviewers.filter((p) => !annotators.includes(p)).flatMap((p) => [person(p), edge(activity, 'wasAssociatedWith', ids.person(p), { role: 'reviewer' })]),
    ...(items ?? []).map((i) => edge(set, 'wasDerivedFrom', ids.curated(i.itemId))),
  ];
}

/** What the lineage reads of a snapshot manifest (`trellis.training-snapshot.v1`): the sets and the included items. */
export interface SnapshotContents {
  annotationSets: { setId: string }[];
  items: { itemId: string; subjectId: string; split: string }[];
}

export function trainerChanges(envelope: EventEnvelope, snapshot?: SnapshotContents): GraphChange[] {
  const event = { type: envelope.type, data: envelope.data } as TrainerEvent;
  switch (event.type) {
    case 'BaseModelRegistered': {
      const d = event.data;
      return [
        node(ids.baseModel(d.baseModelId), 'base-model', 'entity', d.preset ? `base model ${d.preset}` : 'imported base model', {
          preset: d.preset,
          manifestSha256: d.manifestSha256,
          parameters: d.architecture.parameters,
        }),
      ];
    }
    case 'TrainingRequested': {
      const d = event.data;
      const run = ids.training(d.runId);
      return [
        node(run, 'training', 'activity', `${d.method} training`, {
          method: d.method,
          purpose: d.purpose,
          hyperparameters: d.hyperparameters,
          replaces: d.replaces,
        }),
        agentOf(envelope.actor),
        edge(run, 'wasAssociatedWith', agentId(envelope.actor), { role: 'requester' }),
        ...delegated(run, SERVICE_AGENTS.trainer, envelope.actor),
        edge(run, 'used', ids.baseModel(d.baseModel.baseModelId)),
        ...(d.teacher ? [edge(run, 'used', ids.baseModel(d.teacher.baseModelId), { role: 'teacher' })] : []),
        ...d.annotationSets.map((a) => edge(run, 'used', ids.annotationSet(a.setId))),
        state(run, 'status', 'requested'),
      ];
    }
    case 'TrainingSnapshotFrozen': {
      const d = event.data;
      const snap = ids.snapshot(d.runId);
      const s = d.snapshot;
      const items = [...new Set((snapshot?.items ?? []).map((i) => i.itemId))];
      return [
        node(snap, 'snapshot', 'entity', `snapshot of run ${d.runId}`, {
          manifestSha256: s.manifest.sha256,
          merkleRoot: s.merkleRoot,
          includedItems: s.includedItems,
          excludedItems: s.excludedItems,
          includedSubjects: s.includedSubjects,
          excluded: s.excluded,
          consentAsOf: s.consentAsOf,
        }),
        edge(ids.training(d.runId), 'used', snap),
        ...(snapshot?.annotationSets ?? []).map((a) => edge(snap, 'wasDerivedFrom', ids.annotationSet(a.setId))),
        ...items.map((itemId) => edge(snap, 'wasDerivedFrom', ids.curated(itemId))),
        state(ids.training(d.runId), 'status', 'frozen'),
      ];
    }
    case 'TrainingCheckpointed': {
      const d = event.data;
      const cp = ids.checkpoint(d.runId, d.step);
      return [
        node(cp, 'checkpoint', 'entity', `checkpoint at step ${d.step}`, { step: d.step, files: d.files }),
        edge(cp, 'wasGeneratedBy', ids.training(d.runId)),
      ];
    }
    case 'TrainingCompleted':
      return [state(ids.training(event.data.runId), 'status', 'completed')];
    case 'TrainingFailed':
      return [state(ids.training(event.data.runId), 'status', 'failed')];
    case 'TrainingCancelled':
      return [state(ids.training(event.data.runId), 'status', 'cancelled')];
    default:
      return [];
  }
}

export function registryChanges(envelope: EventEnvelope): GraphChange[] {
  const event = { type: envelope.type, data: envelope.data } as RegistryEvent;
  switch (event.type) {
    case 'RegisteredModelCreated':
      // The name only: a model's description is free text the graph does not need.
      return [node(ids.model(event.data.modelId), 'model', 'entity', event.data.name, { name: event.data.name })];
    case 'ModelVersionRegistered': {
      const d = event.data;
      const mv = ids.modelVersion(d.modelVersionId);
      return [
        node(mv, 'model-version', 'entity', `model version ${d.version}`, {
          modelId: d.modelId,
          version: d.version,
          method: d.method,
          parameters: d.parameters,
          files: d.files,
        }),
        edge(mv, 'wasDerivedFrom', ids.baseModel(d.baseModel.baseModelId)),
        ...(d.source.kind === 'training-run'
          ? [edge(mv, 'wasGeneratedBy', ids.training(d.source.runId)), edge(mv, 'wasDerivedFrom', ids.snapshot(d.source.runId))]
          : []),
      ];
    }
    case 'EvaluationRequested': {
      const d = event.data;
      const run = ids.evaluationRun(d.evaluationId);
      return [
        node(run, 'evaluation-run', 'activity', 'evaluation', { seed: d.seed, maxNewTokens: d.maxNewTokens }),
        agentOf(envelope.actor),
        edge(run, 'wasAssociatedWith', agentId(envelope.actor), { role: 'requester' }),
        ...delegated(run, SERVICE_AGENTS.registry, envelope.actor),
        edge(run, 'used', ids.modelVersion(d.modelVersionId)),
        edge(run, 'used', ids.annotationSet(d.annotationSet.setId)),
      ];
    }
    case 'EvaluationCompleted': {
      const d = event.data;
      const ev = ids.evaluation(d.evaluationId);
      return [
        node(ev, 'evaluation', 'entity', 'evaluation result', {
          metrics: d.metrics,
          items: d.itemCount,
          setSha256: d.annotationSetSha256,
          predictions: d.predictions,
        }),
        edge(ev, 'wasGeneratedBy', ids.evaluationRun(d.evaluationId)),
        edge(ev, 'wasDerivedFrom', ids.modelVersion(d.modelVersionId)),
      ];
    }
    case 'PromotionRequested': {
      const d = event.data;
      const p = ids.promotion(d.promotionId);
      return [
        node(p, 'promotion', 'activity', `promotion to ${d.alias}`, { alias: d.alias, tolerance: d.tolerance, evaluationSetSha256: d.evaluationSetSha256 }),
        person(d.requestedBy),
        edge(p, 'wasAssociatedWith', ids.person(d.requestedBy), { role: 'requester' }),
        edge(p, 'used', ids.modelVersion(d.modelVersionId)),
        state(p, 'status', 'pending'),
      ];
    }
    case 'PromotionGatesChecked':
      return [state(ids.promotion(event.data.promotionId), 'gates', event.data.verdicts)];
    case 'PromotionApproved':
      return [
        person(event.data.approvedBy),
        edge(ids.promotion(event.data.promotionId), 'wasAssociatedWith', ids.person(event.data.approvedBy), { role: 'approver' }),
        state(ids.promotion(event.data.promotionId), 'status', 'approved'),
      ];
    case 'PromotionRejected':
      return [state(ids.promotion(event.data.promotionId), 'status', 'rejected')];
    case 'AliasMoved': {
      const d = event.data;
      return [
        // The model keeps every move of each alias (its history, for aliasHistory) ...
        state(ids.model(d.modelId), `alias:${d.alias}`, {
          modelVersionId: d.modelVersionId,
          previousVersionId: d.previousVersionId,
          kind: d.kind,
          promotionId: d.promotionId,
          reason: d.reason,
          by: envelope.actor.id,
        }),
        // ... and each version whether it holds the alias.
        ...(d.previousVersionId ? [state(ids.modelVersion(d.previousVersionId), `alias:${d.alias}`, null)] : []),
        ...(d.modelVersionId
          ? [state(ids.modelVersion(d.modelVersionId), `alias:${d.alias}`, { kind: d.kind, by: envelope.actor.id, promotionId: d.promotionId })]
          : []),
      ];
    }
    case 'ModelVersionFlagged':
      return [
        state(ids.modelVersion(event.data.modelVersionId), `flag:${event.data.trigger}`, {
          subjects: event.data.subjectIds.length,
          items: event.data.itemsAffected,
        }),
      ];
    case 'ModelVersionArchived':
      return [state(ids.modelVersion(event.data.modelVersionId), 'archived', true)];
    default:
      return [];
  }
}

/** What the lineage reads of an OpenLineage run event (the trainer's, or one sent by another tool). */
export interface OpenLineageRunContents {
  eventType?: string;
  producer: string;
  run: { runId: string };
  job: { namespace: string; name: string };
  inputs?: { namespace: string; name: string }[];
  outputs?: { namespace: string; name: string }[];
}

/** Trellis's own OpenLineage namespace (the trainer's jobs and datasets). */
export const TRELLIS_OPENLINEAGE_NAMESPACE = 'trellis';
const TRELLIS_ANNOTATION_SET = /^annotation-sets\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** An input dataset of an outside run as a graph node id: Trellis's annotation sets are the sets themselves, so outside jobs that read them join the graph there. */
export function openLineageDatasetId(d: { namespace: string; name: string }): string {
  const set = d.namespace === TRELLIS_OPENLINEAGE_NAMESPACE ? TRELLIS_ANNOTATION_SET.exec(d.name) : null;
  return set ? ids.annotationSet(set[1].toLowerCase()) : ids.openLineageDataset(d.namespace, d.name);
}

/**
 * The trainer's OpenLineage events (log `openlineage`): its runs are already in the graph from the
 * trainer's own events; these add the OpenLineage job each training ran as, shared with any
 * outside run of the same job, and the last OpenLineage state.
 */
export function trainerOpenLineageChanges(envelope: EventEnvelope): GraphChange[] {
  if (envelope.type !== 'OpenLineageRunEvent') return [];
  const e = envelope.data as OpenLineageRunContents;
  const job = ids.openLineageJob(e.job.namespace, e.job.name);
  return [
    node(job, 'openlineage-job', 'entity', e.job.name, { namespace: e.job.namespace, name: e.job.name }),
    edge(ids.training(e.run.runId), 'used', job, { role: 'plan' }),
    state(ids.training(e.run.runId), 'openlineage', e.eventType ?? 'OTHER'),
  ];
}

/**
 * A run event another tool sent (log `openlineage-import`, the event itself read from the object
 * storage): its run, job and datasets join the graph, with the principal that sent it.
 */
export function importedOpenLineageChanges(envelope: EventEnvelope, event?: OpenLineageRunContents): GraphChange[] {
  if (envelope.type !== 'ExternalRunEventImported') return [];
  const d = envelope.data as { runId: string; eventType: string };
  const run = ids.openLineageRun(d.runId);
  const changes: GraphChange[] = [
    node(run, 'openlineage-run', 'activity', event ? `${event.job.name} run` : 'outside run', event ? { producer: event.producer } : {}),
    agentOf(envelope.actor),
    edge(run, 'wasAssociatedWith', agentId(envelope.actor), { role: 'reporter' }),
    state(run, 'status', d.eventType),
  ];
  if (!event) return changes;
  const job = ids.openLineageJob(event.job.namespace, event.job.name);
  const dataset = (x: { namespace: string; name: string }): GraphChange[] => {
    const id = openLineageDatasetId(x);
    return id.startsWith('openlineage-dataset:') ? [node(id, 'openlineage-dataset', 'entity', x.name, { namespace: x.namespace, name: x.name })] : [];
  };
  return [
    ...changes,
    node(job, 'openlineage-job', 'entity', event.job.name, { namespace: event.job.namespace, name: event.job.name }),
    edge(run, 'used', job, { role: 'plan' }),
    ...(event.inputs ?? []).flatMap((x) => [...dataset(x), edge(run, 'used', openLineageDatasetId(x))]),
    // Outputs stay outside datasets even when named like a Trellis set: an outside tool cannot
    // claim to have generated what Trellis published.
    ...(event.outputs ?? []).flatMap((x) => {
      const id = ids.openLineageDataset(x.namespace, x.name);
      return [node(id, 'openlineage-dataset', 'entity', x.name, { namespace: x.namespace, name: x.name }), edge(id, 'wasGeneratedBy', run)];
    }),
  ];
}
