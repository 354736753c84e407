import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ALIAS_PATTERN, MODEL_NAME_PATTERN } from '@trellis/contracts';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import type { AliasHistory, AliasMove } from './alias-history.models';

interface MoveRow {
  key: string;
  value: { modelVersionId: string | null; previousVersionId: string | null; kind: string; promotionId: string | null; reason: string; by: string };
  valid_from: Date;
  position: string;
}

/**
 * "Which version was champion on date T, and who moved it there", from the lineage graph: each
 * AliasMoved is a state of the registered model's node (key `alias:<alias>`), kept with its event
 * time and registry log position, so the history as of any moment is a range read.
 */
@Injectable()
export class AliasHistoryQuery {
  constructor(private readonly dataSource: DataSource) {}

  async history(model: string, alias: string | null, at: Date): Promise<Omit<AliasHistory, 'at'>> {
    if (!MODEL_NAME_PATTERN.test(model))
      throw new LineageException(LineageErrorCode.InvalidQuery, 'model must be a registered model name (lowercase letters, digits, ".", "_" and "-")', [
        'model',
      ]);
    if (alias !== null && !ALIAS_PATTERN.test(alias))
      throw new LineageException(
        LineageErrorCode.InvalidQuery,
        'alias must be an alias name (lowercase letters, digits, "_" and "-", starting with a letter)',
        ['alias'],
      );
    const [found]: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM lineage_nodes WHERE type = 'model' AND attrs->>'name' = $1 AND valid_from <= $2 ORDER BY valid_from LIMIT 1`,
      [model, at],
    );
    if (!found) throw new LineageException(LineageErrorCode.NotFound, 'no registered model of that name in the lineage graph at that moment', ['model']);
    const rows: MoveRow[] = await this.dataSource.query(
      `SELECT key, value, valid_from, position FROM lineage_node_states
       WHERE node_id = $1 AND key LIKE 'alias:%' AND ($2::text IS NULL OR key = 'alias:' || $2) AND valid_from <= $3
       ORDER BY position`,
      [found.id, alias, at],
    );
    const versionIds = [...new Set(rows.flatMap((r) => [r.value.modelVersionId, r.value.previousVersionId]).filter((v): v is string => v !== null))];
    const versions = new Map<string, number>(
      (
        (await this.dataSource.query(`SELECT id, (attrs->>'version')::int AS version FROM lineage_nodes WHERE id = ANY($1::text[])`, [
          versionIds.map((v) => `model-version:${v}`),
        ])) as { id: string; version: number }[]
      ).map((v) => [v.id.slice('model-version:'.length), v.version]),
    );
    const version = (id: string | null) => (id === null ? null : (versions.get(id) ?? null));
    const moves: AliasMove[] = rows.map((r) => ({
      alias: r.key.slice('alias:'.length),
      version: version(r.value.modelVersionId),
      modelVersionId: r.value.modelVersionId,
      previousVersion: version(r.value.previousVersionId),
      kind: r.value.kind,
      promotionId: r.value.promotionId,
      movedBy: r.value.by,
      reason: r.value.reason,
      movedAt: r.valid_from.toISOString(),
      position: Number(r.position),
    }));
    const holders = new Map<string, AliasMove>();
    for (const m of moves) {
      if (m.modelVersionId === null) holders.delete(m.alias);
      else holders.set(m.alias, m);
    }
    return { model, moves, holders: [...holders.values()] };
  }
}
