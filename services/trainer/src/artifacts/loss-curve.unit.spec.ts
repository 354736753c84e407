import { PNG } from 'pngjs';
import { LOSS_CURVE_COLOURS, LossCurveErrorCode, LossCurveException, LossPoint, lossCurveCsv, lossCurvePng } from './loss-curve';

/** A run of `steps` points from step 1, loss from `loss(i)`, held-out loss every `evalEvery` steps. */
function curve(steps: number, loss: (i: number) => number, evalEvery?: number): LossPoint[] {
  return Array.from({ length: steps }, (_, i) => ({
    step: i + 1,
    loss: loss(i),
    lr: 1e-4,
    heldOutLoss: evalEvery && (i + 1) % evalEvery === 0 ? loss(i) + 0.5 : null,
  }));
}

const decreasing = (steps: number) => (i: number) => 10 - (9 * i) / Math.max(1, steps - 1);

interface Pixels {
  width: number;
  height: number;
  /** [x, y] of every pixel of exactly this colour. */
  find(colour: readonly number[]): [number, number][];
}

function decode(png: Buffer): Pixels {
  const { width, height, data } = PNG.sync.read(png);
  return {
    width,
    height,
    find: ([r, g, b]) => {
      const out: [number, number][] = [];
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = (y * width + x) * 4;
          if (data[i] === r && data[i + 1] === g && data[i + 2] === b) out.push([x, y]);
        }
      }
      return out;
    },
  };
}

/** The lowest (largest y) pixel of the colour in each column that has it, by column. */
function lowestByColumn(pixels: [number, number][]): Map<number, number> {
  const lowest = new Map<number, number>();
  for (const [x, y] of pixels) lowest.set(x, Math.max(lowest.get(x) ?? -1, y));
  return new Map([...lowest].sort((a, b) => a[0] - b[0]));
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

describe('loss-curve', () => {
  describe(lossCurveCsv.name, () => {
    it('writes a header and one round-tripping row per point, empty where nothing was evaluated', () => {
      const csv = lossCurveCsv([
        { step: 1, loss: 2.5, lr: 0.0001, tokensPerSecond: 1234.5, heldOutLoss: null },
        { step: 2, loss: 0.1 + 0.2, lr: 1e-7, heldOutLoss: 2.25 },
        { step: 3, loss: 1 / 3, lr: 0 },
        { step: 4, loss: NaN, lr: 1.5e21, heldOutLoss: Infinity },
      ]);
      expect(csv).toBe(
        'step,loss,learning_rate,held_out_loss\n' +
          '1,2.5,0.0001,\n' +
          '2,0.30000000000000004,1e-7,2.25\n' +
          '3,0.3333333333333333,0,\n' +
          '4,NaN,1.5e+21,Infinity\n',
      );
      const row = csv.split('\n')[3].split(',');
      expect(Number(row[1])).toBe(1 / 3);
    });

    it('writes only the header for no points', () => {
      expect(lossCurveCsv([])).toBe('step,loss,learning_rate,held_out_loss\n');
    });
  });

  describe(lossCurvePng.name, () => {
    it('draws at 800x480 unless asked otherwise, and at the requested size', () => {
      const points = curve(50, decreasing(50));
      expect(decode(lossCurvePng(points))).toMatchObject({ width: 800, height: 480 });
      expect(decode(lossCurvePng(points, { width: 640, height: 360, title: 'run 0193-ab' }))).toMatchObject({ width: 640, height: 360 });
    });

    it('draws a decreasing training loss falling from left to right', () => {
      const image = decode(lossCurvePng(curve(200, decreasing(200))));
      const train = image.find(LOSS_CURVE_COLOURS.training);
      expect(train.length).toBeGreaterThan(200);
      // The lowest pixel per column, so that the legend's sample (above the plot) cannot count.
      const columns = [...lowestByColumn(train).values()];
      const left = mean(columns.slice(0, 10));
      const right = mean(columns.slice(-10));
      expect(right - left).toBeGreaterThan(image.height / 2);
    });

    it('draws the held-out colour only when held-out losses exist', () => {
      expect(decode(lossCurvePng(curve(100, decreasing(100)))).find(LOSS_CURVE_COLOURS.heldOut)).toHaveLength(0);
      expect(decode(lossCurvePng(curve(100, decreasing(100), 10))).find(LOSS_CURVE_COLOURS.heldOut).length).toBeGreaterThan(50);
    });

    it('gives byte-identical output for equal input', () => {
      const a = lossCurvePng(
        curve(300, (i) => Math.exp(-i / 50) + 0.01 * Math.sin(i), 25),
        { title: 'run x' },
      );
      const b = lossCurvePng(
        curve(300, (i) => Math.exp(-i / 50) + 0.01 * Math.sin(i), 25),
        { title: 'run x' },
      );
      expect(a.equals(b)).toBe(true);
      expect(
        a.equals(
          lossCurvePng(
            curve(300, (i) => Math.exp(-i / 50), 25),
            { title: 'run x' },
          ),
        ),
      ).toBe(false);
    });

    it('skips non-finite losses without letting them stretch the axis', () => {
      const points = curve(100, decreasing(100), 20);
      points[40] = { ...points[40], loss: Infinity };
      points[41] = { ...points[41], loss: -Infinity, heldOutLoss: NaN };
      points[99] = { ...points[99], loss: NaN };
      const image = decode(lossCurvePng(points));
      const rows = image.find(LOSS_CURVE_COLOURS.training).map(([, y]) => y);
      // Had Infinity reached the range, every finite point would sit on one edge.
      expect(Math.max(...rows) - Math.min(...rows)).toBeGreaterThan(image.height / 2);
    });

    it('draws something for a run whose every loss diverged', () => {
      const image = decode(lossCurvePng([{ step: 1, loss: NaN, lr: 0.1 }]));
      expect(image).toMatchObject({ width: 800, height: 480 });
    });

    it('marks a single point so that it can be seen', () => {
      const image = decode(lossCurvePng([{ step: 7, loss: 3.2, lr: 1e-4, heldOutLoss: 3.5 }]));
      const legendRows = Math.min(...image.find(LOSS_CURVE_COLOURS.training).map(([, y]) => y)) + 8;
      expect(image.find(LOSS_CURVE_COLOURS.training).filter(([, y]) => y > legendRows).length).toBeGreaterThanOrEqual(9);
      expect(image.find(LOSS_CURVE_COLOURS.heldOut).length).toBeGreaterThan(0);
    });

    it('draws a flat curve as a horizontal line inside the plot', () => {
      const image = decode(lossCurvePng(curve(500, () => 0.693)));
      const byRow = new Map<number, number>();
      for (const [, y] of image.find(LOSS_CURVE_COLOURS.training)) byRow.set(y, (byRow.get(y) ?? 0) + 1);
      const [row, count] = [...byRow].sort((a, b) => b[1] - a[1])[0];
      expect(count).toBeGreaterThan(image.width / 2);
      expect(row).toBeGreaterThan(image.height * 0.2);
      expect(row).toBeLessThan(image.height * 0.8);
    });

    it('draws a flat curve at zero and a huge spread without failing', () => {
      expect(decode(lossCurvePng(curve(10, () => 0))).find(LOSS_CURVE_COLOURS.training).length).toBeGreaterThan(0);
      expect(decode(lossCurvePng(curve(10, (i) => (i % 2 ? 1e308 : -1e308)))).width).toBe(800);
    });

    it('renders 100,000 points, downsampled to the pixel columns', () => {
      const points = curve(100_000, (i) => 5 / Math.sqrt(1 + i / 100) + 0.05 * Math.sin(i), 1_000);
      const image = decode(lossCurvePng(points));
      expect(image.find(LOSS_CURVE_COLOURS.training).length).toBeGreaterThan(500);
      expect(image.find(LOSS_CURVE_COLOURS.heldOut).length).toBeGreaterThan(0);
    });

    it('refuses an empty list with a validation error', () => {
      expect(() => lossCurvePng([])).toThrow(LossCurveException);
      expect(() => lossCurvePng([])).toThrow(expect.objectContaining({ code: LossCurveErrorCode.NoPoints, errorClass: 'validation' }));
    });

    it('refuses a size it cannot draw, naming the option', () => {
      expect(() =>
        lossCurvePng(
          curve(3, () => 1),
          { width: 10 },
        ),
      ).toThrow(expect.objectContaining({ code: LossCurveErrorCode.InvalidPlotOptions, fields: ['width'] }));
      expect(() =>
        lossCurvePng(
          curve(3, () => 1),
          { height: 480.5 },
        ),
      ).toThrow(expect.objectContaining({ fields: ['height'] }));
    });
  });
});
