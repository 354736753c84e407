import { Prng } from './prng';
import { SyntheticFinding } from './synthetic.types';

const RGB: Record<SyntheticFinding['color'], [number, number, number]> = {
  red: [220, 40, 40],
  green: [40, 200, 60],
  blue: [50, 80, 230],
  white: [235, 235, 235],
};

/** Centre of each position, as a fraction of the side. A large shape still fits its quadrant. */
const CENTRES: Record<SyntheticFinding['position'], [number, number]> = {
  'upper left': [0.25, 0.25],
  'upper right': [0.75, 0.25],
  'lower left': [0.25, 0.75],
  'lower right': [0.75, 0.75],
  center: [0.5, 0.5],
};

/**
 * The label is a function of the finding, so a model can learn it from pixels: circles are
 * nodules when small and masses when large, squares are effusions, triangles are normal.
 */
export function labelOf(shape: SyntheticFinding['shape'], size: SyntheticFinding['size']): SyntheticFinding['label'] {
  switch (shape) {
    case 'circle':
      return size === 'small' ? 'nodule' : 'mass';
    case 'square':
      return 'effusion';
    case 'triangle':
      return 'normal';
  }
}

/**
 * Draws the finding on a dark textured background (a gradient, a faint ripple and per-pixel
 * noise) so images are not trivially compressible and the shape is not the only signal.
 */
export function renderFinding(finding: SyntheticFinding, size: number, seed: number): Uint8Array {
  if (!Number.isInteger(size) || size < 8 || size > 4096) throw new RangeError(`image size must be an integer in [8, 4096], got ${size}`);
  const rng = new Prng(seed);
  const rgb = new Uint8Array(size * size * 3);
  const [cxf, cyf] = CENTRES[finding.position];
  const cx = cxf * size;
  const cy = cyf * size;
  // Radius of the circumscribed circle; small shapes are half the size of large ones.
  const r = (finding.size === 'large' ? 0.2 : 0.1) * size;
  const colour = RGB[finding.color];
  const phase = rng.next() * Math.PI * 2;
  const tilt = 0.5 + rng.next();

  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      const px = x + 0.5;
      const py = y + 0.5;
      if (inside(finding.shape, px - cx, py - cy, r)) {
        for (let c = 0; c < 3; c++) rgb[i + c] = clamp(colour[c] + (rng.next() - 0.5) * 20);
      } else {
        const base = 25 + (35 * y) / size + 8 * Math.sin((x * tilt + y) / (size / 6) + phase);
        const v = base + (rng.next() - 0.5) * 12;
        rgb[i] = clamp(v);
        rgb[i + 1] = clamp(v + 2);
        rgb[i + 2] = clamp(v + 5);
      }
    }
  }
  return rgb;
}

function inside(shape: SyntheticFinding['shape'], dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square': {
      const h = r * 0.75;
      return Math.abs(dx) <= h && Math.abs(dy) <= h;
    }
    case 'triangle': {
      // Upward-pointing isosceles triangle, apex at -r, base at +r*0.7.
      const top = -r;
      const bottom = r * 0.7;
      if (dy < top || dy > bottom) return false;
      const halfWidth = ((dy - top) / (bottom - top)) * r * 0.9;
      return Math.abs(dx) <= halfWidth;
    }
  }
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
