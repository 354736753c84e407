// Pure views of a subject's consents and impact for the pages (no DOM): unit-tested in node.
import type { ConsentRecord } from './subjects.api';

/** What a consent stands at: permit with every purpose, some withdrawn, all withdrawn, or not a permit. */
export function consentStanding(c: ConsentRecord): { text: string; tone: 'ok' | 'warn' | 'bad' | 'info' } {
  if (c.decision !== 'permit') return { text: c.decision, tone: 'info' };
  if (c.status !== 'active') return { text: c.status, tone: 'info' };
  const left = withdrawablePurposes(c);
  if (left.length === 0) return { text: 'withdrawn', tone: 'bad' };
  if (left.length < c.purposes.length) return { text: 'partly withdrawn', tone: 'warn' };
  return { text: 'permits', tone: 'ok' };
}

/** The purposes an active permit still grants: what a withdrawal can take back. */
export function withdrawablePurposes(c: ConsentRecord): string[] {
  if (c.decision !== 'permit' || c.status !== 'active') return [];
  const withdrawn = new Set(c.withdrawnPurposes);
  return c.purposes.filter((p) => !withdrawn.has(p));
}

/** The request body for withdrawing `chosen` of a consent: no list when it is every purpose left (the API's default). */
export function withdrawalBody(c: ConsentRecord, chosen: string[]): { purposes?: string[] } {
  const left = withdrawablePurposes(c);
  const picked = left.filter((p) => chosen.includes(p));
  if (picked.length === 0) throw new Error('choose at least one purpose the consent still permits');
  return picked.length === left.length ? {} : { purposes: picked };
}

export function parseStates(states: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(states);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A node's flags (`consent-withdrawn`) and aliases (`champion`), from its states. */
export function marksOf(node: { states: string }): { flags: string[]; aliases: string[] } {
  const keys = Object.keys(parseStates(node.states));
  return {
    flags: keys.filter((k) => k.startsWith('flag:')).map((k) => k.slice(5)),
    aliases: keys.filter((k) => k.startsWith('alias:')).map((k) => k.slice(6)),
  };
}

export interface ImpactSection<N> {
  key: string;
  title: string;
  totalCount: number;
  nodes: N[];
}

interface Connection<N> {
  totalCount: number;
  edges: { node: N }[];
}

/** The impact's connections in the order data flows: consents, assets, dataset versions, sets, snapshots, runs, model versions. */
export function impactSections<N>(impact: Record<(typeof IMPACT_ORDER)[number][0], Connection<N>>): ImpactSection<N>[] {
  return IMPACT_ORDER.map(([key, title]) => ({ key, title, totalCount: impact[key].totalCount, nodes: impact[key].edges.map((e) => e.node) }));
}

const IMPACT_ORDER = [
  ['consents', 'Consents'],
  ['assets', 'Assets (raw and curated)'],
  ['datasetVersions', 'Dataset versions'],
  ['annotationSets', 'Annotation sets'],
  ['snapshots', 'Training snapshots'],
  ['trainingRuns', 'Training runs'],
  ['modelVersions', 'Model versions'],
] as const;

/** A UUID (a pseudonymous subject id) or an external reference: both are what GET /ingestion/subjects/:ref takes. */
export function normalizeRef(input: string): string {
  const s = input.trim();
  const m = /^subject:(.+)$/.exec(s);
  return m ? m[1] : s;
}
