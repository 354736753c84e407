import { applyAction, fit, keepInView, keyAction, MAX_SCALE, MIN_SCALE, pan, wheelFactor, zoomAt, ZOOM_STEP } from './zoom';

describe('image zoom and pan', () => {
  const image = { width: 224, height: 224 };
  const viewport = { width: 448, height: 336 };

  it('fits the image to the viewport, centred', () => {
    expect(fit(image, viewport)).toEqual({ scale: 1.5, x: 56, y: 0 });
    expect(fit({ width: 0, height: 0 }, viewport)).toEqual({ scale: 1, x: 0, y: 0 });
  });

  it('zooms about a point, keeping the image point under it in place', () => {
    const start = fit(image, viewport);
    const at = { x: 200, y: 100 };
    const imagePoint = { x: (at.x - start.x) / start.scale, y: (at.y - start.y) / start.scale };
    const zoomed = zoomAt(start, 2, at, image, viewport);
    expect(zoomed.scale).toBe(3);
    expect((at.x - zoomed.x) / zoomed.scale).toBeCloseTo(imagePoint.x, 9);
    expect((at.y - zoomed.y) / zoomed.scale).toBeCloseTo(imagePoint.y, 9);
  });

  it('keeps the scale within its bounds', () => {
    const start = fit(image, viewport);
    expect(zoomAt(start, 1000, { x: 0, y: 0 }, image, viewport).scale).toBe(MAX_SCALE);
    expect(zoomAt(start, 0.0001, { x: 0, y: 0 }, image, viewport).scale).toBe(MIN_SCALE);
  });

  it('keeps a small image inside the viewport and a large one covering it', () => {
    // 224 px at scale 1 in a 448 px wide viewport: x within [0, 224].
    expect(keepInView({ scale: 1, x: -50, y: 500 }, image, viewport)).toEqual({ scale: 1, x: 0, y: 112 });
    // 896 px at scale 4: x within [448 - 896, 0].
    expect(keepInView({ scale: 4, x: 100, y: -2000 }, image, viewport)).toEqual({ scale: 4, x: 0, y: 336 - 896 });
    expect(pan({ scale: 4, x: -100, y: -100 }, -30, 20, image, viewport)).toEqual({ scale: 4, x: -130, y: -80 });
  });

  it('turns wheel notches into zoom factors, up zooming in', () => {
    expect(wheelFactor(-100)).toBeCloseTo(ZOOM_STEP, 9);
    expect(wheelFactor(100)).toBeCloseTo(1 / ZOOM_STEP, 9);
    expect(wheelFactor(0)).toBe(1);
    // A trackpad's small deltas zoom a little; a huge one at most three steps.
    expect(wheelFactor(-10)).toBeCloseTo(ZOOM_STEP ** 0.1, 9);
    expect(wheelFactor(-5000)).toBeCloseTo(ZOOM_STEP ** 3, 9);
  });

  it('maps keys to actions and applies them about the centre', () => {
    expect(keyAction('+')).toEqual({ type: 'zoom', factor: ZOOM_STEP });
    expect(keyAction('-')).toEqual({ type: 'zoom', factor: 1 / ZOOM_STEP });
    expect(keyAction('0')).toEqual({ type: 'fit' });
    expect(keyAction('ArrowRight')).toEqual({ type: 'pan', dx: 40, dy: 0 });
    expect(keyAction('a')).toBeUndefined();
    const start = fit(image, viewport);
    const zoomed = applyAction(start, { type: 'zoom', factor: 2 }, image, viewport);
    // The centre of the viewport shows the centre of the image before and after.
    expect((224 - zoomed.x) / zoomed.scale).toBeCloseTo(112, 9);
    expect((168 - zoomed.y) / zoomed.scale).toBeCloseTo(112, 9);
    expect(applyAction(zoomed, { type: 'fit' }, image, viewport)).toEqual(start);
  });
});
