/**
 * How a per-position table (rotary cos/sin, an attention mask) broadcasts over the rows of x
 * [..., T, C]: either one table [T, C] for every leading index (leading 1s allowed), or one per
 * batch row, [B, 1, T, C] against x [B, H, T, C] (a left-padded batch). Those are the only two
 * shapes the model passes; anything else returns null and the op runs unfused.
 */
export interface RowTable {
  /** Positions per table. */
  t: number;
  /** x rows per batch row (H·T) when the table has one per batch row; 0 when one table serves all. */
  perBatch: number;
}

export function rowTable(xShape: readonly number[], tableShape: readonly number[]): RowTable | null {
  const rank = xShape.length;
  if (rank < 2 || tableShape.length < 2 || tableShape.length > rank) return null;
  const c = xShape[rank - 1]!;
  const t = xShape[rank - 2]!;
  if (tableShape[tableShape.length - 1] !== c || tableShape[tableShape.length - 2] !== t) return null;
  const lead = tableShape.slice(0, -2);
  if (lead.every((d) => d === 1)) return { t, perBatch: 0 };
  // [B, 1, T, C] over [B, H, T, C].
  if (rank === 4 && tableShape.length === 4 && tableShape[0] === xShape[0] && tableShape[1] === 1) return { t, perBatch: xShape[1]! * t };
  return null;
}

/** The table row that x row `i` uses. */
export function tableRowOf(table: RowTable, i: number): number {
  return table.perBatch === 0 ? i % table.t : Math.floor(i / table.perBatch) * table.t + (i % table.t);
}
