import { BinaryItemFields, isSplit, SnapshotWriter, SubjectDecision, uuidText } from './snapshot';

/**
 * A set's items in item order as PostgreSQL's binary COPY, the columns in BinaryItemFields'
 * order of reading. COPY takes no parameters, so the set's id goes into the text: only a uuid
 * written as one (checked) does.
 */
export function setItemsCopySql(setId: string): string {
  if (!UUID.test(setId)) throw new Error(`not a set id: ${JSON.stringify(setId)}`);
  return `COPY (SELECT item_id, subject_id, image_sha256, text_sha256, leaf_sha256, image_key
    FROM trainer_set_items WHERE set_id = '${setId}' ORDER BY item_id) TO STDOUT (FORMAT binary)`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What every binary COPY starts with, before its flags and the length of its header extension (int32 each). */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

const COLUMNS = ['item_id', 'subject_id', 'image_sha256', 'text_sha256', 'leaf_sha256', 'image_key'];

/**
 * Places the items of one set, read as PostgreSQL's binary COPY of setItemsCopySql, into a
 * writer by their subject's decision (planSnapshot), as placeRow does with rows read as text:
 * the same bytes, but none of the row's values is made a string (only a subject's id, once for
 * each run of rows of one subject, to find its decision). `push` takes the COPY's data as it
 * comes, a whole number of rows at a time (PostgreSQL sends a row per message, the header with
 * the first); `end` checks that the data ended as a COPY ends. Throws on anything else, a row
 * out of item order, a subject not planned for or a leaf hash that is not 32 bytes, naming the
 * item and set, never the subject.
 */
export class SetItemsCopyReader {
  private started = false;
  private ended = false;
  private rows = 0;
  private readonly lastItem = Buffer.alloc(16);
  private readonly lastSubject = Buffer.alloc(16);
  private subjectId = '';
  /** Where the last row's columns start, and their lengths. */
  private readonly starts = new Int32Array(6);
  private readonly lengths = new Int32Array(6);
  private decision: SubjectDecision = 'train';
  private readonly at: BinaryItemFields = {
    itemId: 0,
    subjectId: 0,
    imageSha256: 0,
    imageSha256Length: 0,
    textSha256: 0,
    textSha256Length: 0,
    leafSha256: 0,
    imageKey: 0,
    imageKeyLength: 0,
  };

  constructor(
    private readonly setId: string,
    private readonly decisions: Map<string, SubjectDecision>,
    private readonly to: SnapshotWriter,
  ) {}

  push(data: Buffer): void {
    let o = 0;
    if (!this.started) {
      if (data.length < 19 || !data.subarray(0, 11).equals(SIGNATURE)) throw this.malformed('does not start as a binary COPY');
      o = 19 + data.readInt32BE(15);
      this.started = true;
    }
    while (o < data.length) {
      if (this.ended || o + 2 > data.length) throw this.malformed('has data after its end or a row cut short');
      const columns = data.readInt16BE(o);
      o += 2;
      if (columns === -1) this.ended = true;
      else if (columns !== COLUMNS.length) throw this.malformed(`has a row of ${columns} columns`);
      else o = this.row(data, o);
    }
  }

  /** How many rows were placed, once the COPY's data is all in. */
  end(): number {
    if (!this.ended) throw this.malformed('ended before its last row');
    return this.rows;
  }

  private row(data: Buffer, o: number): number {
    const { starts, lengths } = this;
    for (let c = 0; c < COLUMNS.length; c++) {
      if (o + 4 > data.length) throw this.malformed('has a row cut short');
      const length = data.readInt32BE(o);
      o += 4;
      if (length < 0) throw this.malformed(`has a row without ${COLUMNS[c]}`);
      if (o + length > data.length) throw this.malformed('has a row cut short');
      starts[c] = o;
      lengths[c] = length;
      o += length;
    }
    if (lengths[0] !== 16 || lengths[1] !== 16) throw this.malformed('has an id that is not a uuid');
    const at = this.at;
    at.itemId = starts[0];
    at.subjectId = starts[1];
    at.imageSha256 = starts[2];
    at.imageSha256Length = lengths[2];
    at.textSha256 = starts[3];
    at.textSha256Length = lengths[3];
    at.leafSha256 = starts[4];
    at.imageKey = starts[5];
    at.imageKeyLength = lengths[5];
    // Manifest order is the order of the ids' text, which is the order of their bytes (PostgreSQL's uuid order).
    if (this.rows > 0 && compare16(data, at.itemId, this.lastItem) <= 0) {
      throw new Error(`the items of set ${this.setId} did not arrive in item order (${uuidText(data, at.itemId)} after ${uuidText(this.lastItem, 0)})`);
    }
    copy16(data, at.itemId, this.lastItem);
    if (this.rows === 0 || compare16(data, at.subjectId, this.lastSubject) !== 0) {
      copy16(data, at.subjectId, this.lastSubject);
      this.subjectId = uuidText(data, at.subjectId);
      const d = this.decisions.get(this.subjectId);
      if (d === undefined) throw new Error(`item ${uuidText(data, at.itemId)} of set ${this.setId} has a subject the snapshot was not planned for`);
      this.decision = d;
    }
    const d = this.decision;
    if (isSplit(d)) {
      // As placeRow: only an included item's leaf is read.
      if (lengths[4] !== 32) throw new Error(`item ${uuidText(data, at.itemId)} of set ${this.setId} has no valid leaf hash`);
      this.to.includeBinary(this.setId, data, at, this.subjectId, d);
    } else this.to.exclude({ setId: this.setId, itemId: uuidText(data, at.itemId), subjectId: this.subjectId }, d);
    this.rows++;
    return o;
  }

  private malformed(what: string): Error {
    return new Error(`the COPY of the items of set ${this.setId} ${what}`);
  }
}

/** Compares the 16 bytes at `at` of `a` with the first 16 of `b`, as unsigned bytes. */
function compare16(a: Buffer, at: number, b: Buffer): number {
  for (let i = 0; i < 16; i++) {
    const d = a[at + i] - b[i];
    if (d !== 0) return d;
  }
  return 0;
}

// Loops, not Buffer.copy or compare: for 16 bytes the call costs more than the work.
function copy16(from: Buffer, at: number, to: Buffer): void {
  for (let i = 0; i < 16; i++) to[i] = from[at + i];
}
