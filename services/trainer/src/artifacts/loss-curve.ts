import { PNG } from 'pngjs';
import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

/** One optimiser step of a run: the train loss every step, the held-out loss only on evaluation steps. */
export interface LossPoint {
  step: number;
  loss: number;
  lr: number;
  tokensPerSecond?: number;
  heldOutLoss?: number | null;
}

export interface LossCurvePlotOptions {
  width?: number;
  height?: number;
  title?: string;
}

export enum LossCurveErrorCode {
  NoPoints = 'LOSS_CURVE_EMPTY',
  InvalidPlotOptions = 'INVALID_PLOT_OPTIONS',
}

// Local until services/trainer/src/trainer.exception.ts exists; then these codes move into it.
export class LossCurveException extends DomainException<LossCurveErrorCode> {
  get errorClass(): ErrorClass {
    switch (this.code) {
      case LossCurveErrorCode.NoPoints:
      case LossCurveErrorCode.InvalidPlotOptions:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}

export function lossCurveCsv(points: readonly LossPoint[]): string {
  const rows = ['step,loss,learning_rate,held_out_loss'];
  for (const p of points) {
    const heldOut = p.heldOutLoss === null || p.heldOutLoss === undefined ? '' : csvNumber(p.heldOutLoss);
    rows.push(`${csvNumber(p.step)},${csvNumber(p.loss)},${csvNumber(p.lr)},${heldOut}`);
  }
  return rows.join('\n') + '\n';
}

// String() is the shortest text that parses back to the same double and ignores the locale;
// only the sign of zero would be lost. NaN and Infinity stay as written: Python's float() and
// pandas read them, and a diverged step should say so rather than look unevaluated.
function csvNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

type Rgb = readonly [number, number, number];

export const LOSS_CURVE_COLOURS = {
  training: [0x1f, 0x77, 0xb4] as Rgb,
  heldOut: [0xff, 0x7f, 0x0e] as Rgb,
} as const;

const WHITE: Rgb = [0xff, 0xff, 0xff];
const INK: Rgb = [0x22, 0x22, 0x22];
const GRID: Rgb = [0xe8, 0xe8, 0xe8];

const DEFAULT_WIDTH = 800;
const DEFAULT_HEIGHT = 480;
// Below this the margins leave no plot; above it the RGB buffer alone passes 50 MB.
const MIN_WIDTH = 160;
const MIN_HEIGHT = 120;
const MAX_SIDE = 4096;
const MAX_TICKS = 50;

/**
 * Train loss as a line and held-out loss as marked points joined by a line, on linear axes.
 * Points with a non-finite loss are left out and break the line there, so a run that diverged
 * shows where it stopped. Equal input gives equal bytes: nothing time-dependent is written.
 */
export function lossCurvePng(points: readonly LossPoint[], options: LossCurvePlotOptions = {}): Buffer {
  if (points.length === 0) throw new LossCurveException(LossCurveErrorCode.NoPoints, 'there are no loss points to plot');
  const width = plotSide(options.width, DEFAULT_WIDTH, MIN_WIDTH, 'width');
  const height = plotSide(options.height, DEFAULT_HEIGHT, MIN_HEIGHT, 'height');
  const title = options.title ?? '';

  // Sorted so that points handed over out of order still draw as one curve; sort is stable.
  const ordered = points.filter((p) => Number.isFinite(p.step)).sort((a, b) => a.step - b.step);
  const heldOut = ordered.filter((p) => isFiniteNumber(p.heldOutLoss));
  const values = [...ordered.map((p) => p.loss), ...heldOut.map((p) => p.heldOutLoss as number)].filter(Number.isFinite);

  const xAxis = stepAxis(ordered.map((p) => p.step));
  const yAxis = lossAxis(values);

  const titleRow = title ? 8 : 0;
  const legendTop = titleRow + (title ? 2 * GLYPH_H + 8 : 8);
  const top = legendTop + GLYPH_H + 10;
  const yLabels = yAxis.ticks.map((t) => formatTick(t, yAxis.tickStep));
  const left = 10 + Math.max(...yLabels.map((l) => textWidth(l, 1)), textWidth('loss', 1)) + 8;
  const right = width - 26;
  const bottom = height - 38;
  const area: Rect = { left, top, right: Math.max(right, left + 1), bottom: Math.max(bottom, top + 1) };

  const canvas = new Canvas(width, height);
  const toPx = (step: number) => area.left + Math.round(((step - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (area.right - area.left));
  const toPy = (loss: number) => area.top + Math.round(((yAxis.hi - loss) / (yAxis.hi - yAxis.lo)) * (area.bottom - area.top));

  for (const [i, t] of yAxis.ticks.entries()) {
    const y = toPy(t);
    if (!Number.isInteger(y)) continue;
    canvas.hline(area.left, area.right, y, GRID);
    canvas.hline(area.left - 5, area.left - 2, y, INK);
    canvas.text(yLabels[i], area.left - 8 - textWidth(yLabels[i], 1), y - 3, INK, 1);
  }
  for (const t of xAxis.ticks) {
    const x = toPx(t);
    if (!Number.isInteger(x)) continue;
    canvas.vline(x, area.top, area.bottom, GRID);
    canvas.vline(x, area.bottom + 2, area.bottom + 5, INK);
    const label = formatTick(t, xAxis.tickStep);
    canvas.text(label, x - Math.floor(textWidth(label, 1) / 2), area.bottom + 9, INK, 1);
  }
  canvas.vline(area.left - 1, area.top, area.bottom + 1, INK);
  canvas.hline(area.left - 1, area.right, area.bottom + 1, INK);
  canvas.text('step', Math.round((area.left + area.right - textWidth('step', 1)) / 2), area.bottom + 23, INK, 1);
  canvas.text('loss', 10, legendTop, INK, 1);
  if (title) canvas.text(title, Math.max(10, Math.round((width - textWidth(title, 2)) / 2)), titleRow, INK, 2);

  drawSeries(canvas, area, ordered, (p) => p.loss, toPx, toPy, LOSS_CURVE_COLOURS.training, false);
  // Past about one marker per 8 pixels the markers merge into a band that hides the line.
  const markHeldOut = heldOut.length <= (area.right - area.left) / 8;
  drawSeries(canvas, area, heldOut, (p) => p.heldOutLoss as number, toPx, toPy, LOSS_CURVE_COLOURS.heldOut, markHeldOut);

  const legend: { label: string; colour: Rgb; marker: boolean }[] = [{ label: 'train', colour: LOSS_CURVE_COLOURS.training, marker: false }];
  if (heldOut.length > 0) legend.push({ label: 'held-out', colour: LOSS_CURVE_COLOURS.heldOut, marker: true });
  let x = area.right - legend.reduce((w, e) => w + LEGEND_SAMPLE + 4 + textWidth(e.label, 1) + 12, -12);
  for (const entry of legend) {
    const mid = legendTop + 3;
    const sample = { left: x, right: x + LEGEND_SAMPLE, top: mid - 3, bottom: mid + 4 };
    for (let sx = sample.left; sx < sample.right; sx++) canvas.brush(sx, mid, entry.colour, sample);
    if (entry.marker) canvas.marker(x + LEGEND_SAMPLE / 2, mid, entry.colour, sample);
    canvas.text(entry.label, x + LEGEND_SAMPLE + 4, legendTop, INK, 1);
    x += LEGEND_SAMPLE + 4 + textWidth(entry.label, 1) + 12;
  }

  return canvas.encode();
}

const LEGEND_SAMPLE = 18;

function plotSide(value: number | undefined, fallback: number, min: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > MAX_SIDE) {
    throw new LossCurveException(
      LossCurveErrorCode.InvalidPlotOptions,
      `the plot ${field} must be a whole number of pixels from ${min} to ${MAX_SIDE}, not ${value}`,
      [field],
    );
  }
  return value;
}

function isFiniteNumber(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  tickStep: number;
}

// Tight to the run's first and last step (including steps whose loss is not finite), so the
// curve spans the width and a run that diverged visibly stops short of the end.
function stepAxis(steps: number[]): Axis {
  let lo = steps.length ? Math.min(...chunkedExtent(steps, Math.min)) : 0;
  let hi = steps.length ? Math.max(...chunkedExtent(steps, Math.max)) : 1;
  if (!(hi - lo > 0)) [lo, hi] = [lo - 1, hi + 1];
  const integral = steps.every(Number.isInteger);
  let tickStep = niceStep(hi - lo, 8);
  // Steps are counted, so a tick at 2.5 would name a step that does not exist.
  if (integral) tickStep = Math.max(tickStep, 1);
  return { lo, hi, tickStep, ticks: ticksWithin(lo, hi, tickStep) };
}

// Rounded out to whole ticks, so the curve never touches the top or bottom edge unlabelled.
function lossAxis(values: number[]): Axis {
  let lo = values.length ? Math.min(...chunkedExtent(values, Math.min)) : 0;
  let hi = values.length ? Math.max(...chunkedExtent(values, Math.max)) : 1;
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  // A flat curve (or one flat to within rounding) still needs a span to place it and label it.
  if (!(hi - lo > magnitude * 1e-6)) {
    const centre = lo / 2 + hi / 2;
    const half = centre === 0 ? 0.5 : Math.abs(centre) * 0.05;
    [lo, hi] = [centre - half, centre + half];
  }
  const tickStep = niceStep(hi - lo, 6);
  const niceLo = Math.floor(lo / tickStep) * tickStep;
  const niceHi = Math.ceil(hi / tickStep) * tickStep;
  if (Number.isFinite(niceLo) && Number.isFinite(niceHi) && niceHi > niceLo) [lo, hi] = [niceLo, niceHi];
  return { lo, hi, tickStep, ticks: ticksWithin(lo, hi, tickStep) };
}

// Math.min(...array) overflows the call stack for a few hundred thousand arguments.
function chunkedExtent(values: number[], pick: (...v: number[]) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 10_000) out.push(pick(...values.slice(i, i + 10_000)));
  return out;
}

/** 1, 2 or 5 times a power of ten, giving about `target` intervals over `span`. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

// Ticks as whole multiples of the step rather than by repeated addition: a sum can stop
// advancing at large magnitudes and loop forever, and it accumulates rounding.
function ticksWithin(lo: number, hi: number, step: number): number[] {
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  if (!Number.isFinite(first) || !Number.isFinite(last) || last - first > MAX_TICKS) return [];
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(i * step);
  return ticks;
}

// As many decimals as the tick step needs, so that 0.30000000000000004 prints as 0.3; an
// exponent once plain digits would run past seven characters.
function formatTick(value: number, step: number): string {
  if (Math.abs(value) < step * 1e-6) return '0';
  const stepPower = Math.floor(Math.log10(step) + 1e-9);
  const magnitude = Math.abs(value);
  if (magnitude < 1e7 && stepPower > -5) return value.toFixed(Math.min(20, Math.max(0, -stepPower)));
  const power = Math.floor(Math.log10(magnitude) + 1e-9);
  const [mantissa, exponent] = value.toExponential(Math.min(20, Math.max(0, power - stepPower))).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${trimmed}e${Number(exponent)}`;
}

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Draws one series downsampled to the pixel columns: consecutive points that land in the same
 * column become one vertical stroke from their lowest to their highest value, and each column
 * joins the next with a line. The cost is one pass over the points whatever their number.
 * A point whose value is not finite ends the stroke; a point left alone by that gets a marker,
 * as a single pixel would not be seen.
 */
function drawSeries(
  canvas: Canvas,
  area: Rect,
  points: readonly LossPoint[],
  value: (p: LossPoint) => number,
  toPx: (step: number) => number,
  toPy: (loss: number) => number,
  colour: Rgb,
  markEach: boolean,
): void {
  let column: { x: number; first: number; last: number; min: number; max: number } | undefined;
  let runLength = 0;
  const endRun = () => {
    if (column) canvas.stroke(column.x, column.min, column.max, colour, area);
    if (column && runLength === 1 && !markEach) canvas.marker(column.x, column.first, colour, area);
    column = undefined;
    runLength = 0;
  };
  for (const p of points) {
    const v = value(p);
    const x = Number.isFinite(v) ? toPx(p.step) : NaN;
    const y = Number.isFinite(v) ? toPy(v) : NaN;
    if (!Number.isInteger(x) || !Number.isInteger(y)) {
      endRun();
      continue;
    }
    runLength++;
    if (markEach) canvas.marker(x, y, colour, area);
    if (column && column.x === x) {
      column.last = y;
      column.min = Math.min(column.min, y);
      column.max = Math.max(column.max, y);
      continue;
    }
    if (column) {
      canvas.stroke(column.x, column.min, column.max, colour, area);
      canvas.line(column.x, column.last, x, y, colour, area);
    }
    column = { x, first: y, last: y, min: y, max: y };
  }
  endRun();
}

class Canvas {
  private readonly rgb: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < this.rgb.length; i += 3) [this.rgb[i], this.rgb[i + 1], this.rgb[i + 2]] = WHITE;
  }

  set(x: number, y: number, [r, g, b]: Rgb, clip?: Rect): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    if (clip && (x < clip.left || x > clip.right || y < clip.top || y > clip.bottom)) return;
    const i = (y * this.width + x) * 3;
    this.rgb[i] = r;
    this.rgb[i + 1] = g;
    this.rgb[i + 2] = b;
  }

  hline(x0: number, x1: number, y: number, colour: Rgb): void {
    for (let x = x0; x <= x1; x++) this.set(x, y, colour);
  }

  vline(x: number, y0: number, y1: number, colour: Rgb): void {
    for (let y = y0; y <= y1; y++) this.set(x, y, colour);
  }

  // Data lines are two pixels wide: one-pixel lines vanish when a PNG is shown scaled down.
  brush(x: number, y: number, colour: Rgb, clip: Rect): void {
    this.set(x, y, colour, clip);
    this.set(x + 1, y, colour, clip);
    this.set(x, y + 1, colour, clip);
    this.set(x + 1, y + 1, colour, clip);
  }

  stroke(x: number, y0: number, y1: number, colour: Rgb, clip: Rect): void {
    for (let y = y0; y <= y1; y++) this.brush(x, y, colour, clip);
  }

  marker(cx: number, cy: number, colour: Rgb, clip: Rect): void {
    for (let y = cy - 2; y <= cy + 2; y++) for (let x = cx - 2; x <= cx + 2; x++) this.set(x, y, colour, clip);
  }

  /** Bresenham's line; both ends are whole pixels, which the callers ensure. */
  line(x0: number, y0: number, x1: number, y1: number, colour: Rgb, clip: Rect): void {
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (let x = x0, y = y0; ;) {
      this.brush(x, y, colour, clip);
      if (x === x1 && y === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  text(text: string, x: number, y: number, colour: Rgb, scale: number): void {
    for (const [n, ch] of [...text.toLowerCase()].entries()) {
      const rows = GLYPHS.get(ch) ?? (ch === ' ' ? undefined : MISSING_GLYPH);
      if (!rows) continue;
      const gx = x + n * GLYPH_ADVANCE * scale;
      for (let r = 0; r < GLYPH_H; r++) {
        for (let c = 0; c < GLYPH_W; c++) {
          if (!(rows[r] & (1 << (GLYPH_W - 1 - c)))) continue;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(gx + c * scale + dx, y + r * scale + dy, colour);
        }
      }
    }
  }

  encode(): Buffer {
    // Truecolour without alpha and no ancillary chunks (no tIME): the bytes depend on the pixels
    // only. The Up filter alone: gridlines and flat background repeat row to row, so it gets
    // within a factor of two of pngjs's adaptive default, which costs seconds a plot under jest.
    return PNG.sync.write({ width: this.width, height: this.height, data: this.rgb } as PNG, {
      colorType: 2,
      inputColorType: 2,
      inputHasAlpha: false,
      filterType: 2,
    });
  }
}

const GLYPH_W = 5;
const GLYPH_H = 7;
const GLYPH_ADVANCE = GLYPH_W + 1;

function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : ([...text].length * GLYPH_ADVANCE - 1) * scale;
}

// 5x7 glyphs as "char:rows", seven rows of two hex digits top to bottom, the high bit of the
// five on the left. Tick labels need the digits, '.', '-' and 'e'; the axis titles, the legend
// and run titles (the trainer's are "run <id>") need lower-case letters, so all of them, with
// the punctuation that model and run names use. Upper case is drawn as lower case.
const GLYPHS = new Map(
  [
    '0:0e11131519110e 1:040c040404040e 2:0e11010204081f 3:1f02040201110e 4:02060a121f0202 5:1f101e0101110e 6:0608101e11110e',
    '7:1f010204080808 8:0e11110e11110e 9:0e11110f01020c .:00000000000c0c -:0000000e000000 +:0004041f040400 _:0000000000001f',
    '/:00010204081000 ::000c0c000c0c00 a:00000e010f110f b:1010161911111e c:00000e1010110e d:01010d1311110f e:00000e111f100e',
    'f:0609081c080808 g:000f11110f010e h:10101619111111 i:04000c0404040e j:0200060202120c k:10101214181412 l:0c04040404040e',
    'm:00001a15151111 n:00001619111111 o:00000e1111110e p:00001e111e1010 q:00000d130f0101 r:00001619101010 s:00000e100e011e',
    't:08081c08080906 u:0000111111130d v:00001111110a04 w:0000111115150a x:0000110a040a11 y:000011110f010e z:00001f0204081f',
  ]
    .join(' ')
    .split(' ')
    .filter(Boolean)
    .map((entry): [string, number[]] => [entry[0], (entry.slice(2).match(/../g) ?? []).map((h) => parseInt(h, 16))]),
);
const MISSING_GLYPH = [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f];
