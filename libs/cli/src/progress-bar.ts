/** A one-line progress bar on stderr, redrawn in place (only when stderr is a terminal; else one line per 10%). */
export class ProgressBar {
  private lastDecile = -1;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {}

  update(done: number, detail: string): void {
    const share = this.total === 0 ? 1 : done / this.total;
    const filled = Math.round(share * this.width);
    const text = `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${done}/${this.total} ${detail}`;
    if (this.out.isTTY) {
      this.out.write(`\r${text}\x1b[K`);
    } else {
      const decile = Math.floor(share * 10);
      if (decile !== this.lastDecile || done === this.total) {
        this.lastDecile = decile;
        this.out.write(`${text}\n`);
      }
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
