import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** One row of a bulk-import manifest (CSV with a header row, or JSON Lines). */
export interface ManifestRow {
  /** 1-based line in the manifest file, for messages. */
  line: number;
  path: string;
  /** A subject id or the external reference it was registered with. */
  subject: string;
  kind?: string;
  mimeType?: string;
  /** The manifest path of the image this report describes. */
  describes?: string;
}

export type ManifestEntry = { ok: true; row: ManifestRow } | { ok: false; line: number; path: string; reason: string; message: string };

const ALIASES: Record<string, keyof Omit<ManifestRow, 'line'>> = {
  path: 'path',
  file: 'path',
  subject: 'subject',
  subjectref: 'subject',
  subject_ref: 'subject',
  subjectid: 'subject',
  subject_id: 'subject',
  kind: 'kind',
  mimetype: 'mimeType',
  mime_type: 'mimeType',
  contenttype: 'mimeType',
  content_type: 'mimeType',
  describes: 'describes',
  describes_path: 'describes',
};

/** RFC 4180 CSV: quoted fields, doubled quotes, commas and newlines inside quotes. Returns rows with their first line number. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '' && !fieldStarted)) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      fieldStarted = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
      fieldStarted = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += ch;
      fieldStarted = true;
    }
  }
  if (quoted) throw new Error(`manifest line ${rowLine}: a quoted field is not closed`);
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

function toRow(line: number, record: Record<string, unknown>): ManifestEntry {
  const row: Partial<ManifestRow> = { line };
  for (const [key, value] of Object.entries(record)) {
    const field = ALIASES[key.trim().toLowerCase()];
    if (field && value !== undefined && value !== null && String(value).trim() !== '') row[field] = String(value).trim();
  }
  const path = row.path ?? '';
  if (!row.path) return { ok: false, line, path, reason: 'BAD_ROW', message: `line ${line}: no path` };
  if (!row.subject) return { ok: false, line, path, reason: 'BAD_ROW', message: `line ${line}: no subject (column subject, subjectRef or subjectId)` };
  return { ok: true, row: row as ManifestRow };
}

/** Parses a manifest; the format follows the file extension (.csv, else JSON Lines). Bad rows come back as entries with a reason. */
export function parseManifest(text: string, format: 'csv' | 'jsonl'): ManifestEntry[] {
  if (format === 'csv') {
    const rows = parseCsv(text.replace(/^\uFEFF/, ''));
    if (rows.length === 0) return [];
    const header = rows[0].cells.map((h) => h.trim());
    if (!header.some((h) => ALIASES[h.toLowerCase()] === 'path')) throw new Error('the CSV manifest needs a header row with a "path" column');
    return rows.slice(1).map(({ line, cells }) => {
      if (cells.length !== header.length)
        return { ok: false, line, path: cells[0] ?? '', reason: 'BAD_ROW', message: `line ${line}: ${cells.length} fields, the header has ${header.length}` };
      return toRow(line, Object.fromEntries(header.map((h, i) => [h, cells[i]])));
    });
  }
  return text.split(/\r?\n/).flatMap((raw, i): ManifestEntry[] => {
    const line = i + 1;
    if (raw.trim() === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return [{ ok: false, line, path: '', reason: 'BAD_ROW', message: `line ${line}: not valid JSON` }];
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return [{ ok: false, line, path: '', reason: 'BAD_ROW', message: `line ${line}: not a JSON object` }];
    return [toRow(line, value as Record<string, unknown>)];
  });
}

/**
 * The absolute path of a manifest entry, or why it is refused: absolute paths, `..` that leaves
 * the folder, and symbolic links (anywhere on the way) that point outside it are all refused,
 * since a manifest is input from whoever prepared the folder.
 */
export async function resolveInside(folder: string, path: string): Promise<{ ok: true; file: string } | { ok: false; reason: string; message: string }> {
  if (path.includes('\0')) return { ok: false, reason: 'PATH_ESCAPES_FOLDER', message: 'the path contains a NUL byte' };
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path))
    return { ok: false, reason: 'PATH_ESCAPES_FOLDER', message: `${JSON.stringify(path)} is absolute; manifest paths are relative to the folder` };
  const root = await realpath(folder);
  const candidate = resolve(root, path);
  const rel = relative(root, candidate);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    return { ok: false, reason: 'PATH_ESCAPES_FOLDER', message: `${JSON.stringify(path)} leaves the folder` };
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { ok: false, reason: 'MISSING_FILE', message: `${JSON.stringify(path)} does not exist` };
  }
  if (!(real + sep).startsWith(root + sep) || real === root)
    return { ok: false, reason: 'PATH_ESCAPES_FOLDER', message: `${JSON.stringify(path)} is a link to outside the folder` };
  const stat = await lstat(real);
  if (!stat.isFile()) return { ok: false, reason: 'BAD_ROW', message: `${JSON.stringify(path)} is not a regular file` };
  return { ok: true, file: real };
}
