// Zoom and pan of a task's image, as pure functions of a view (no DOM): the image viewer keeps a
// View in state and turns buttons, the wheel, the keyboard and dragging into these.

/** Where the image is drawn: its top-left corner in the viewport (px) and its scale. */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export const MIN_SCALE = 0.25;
export const MAX_SCALE = 16;
/** One zoom step (a button press, a key, a wheel notch). */
export const ZOOM_STEP = 1.25;
/** One pan step with the keyboard or a button (px). */
export const PAN_STEP = 40;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The image scaled to fit the viewport, centred. */
export function fit(image: Size, viewport: Size): View {
  if (image.width <= 0 || image.height <= 0 || viewport.width <= 0 || viewport.height <= 0) return { scale: 1, x: 0, y: 0 };
  const scale = clamp(Math.min(viewport.width / image.width, viewport.height / image.height), MIN_SCALE, MAX_SCALE);
  return { scale, x: (viewport.width - image.width * scale) / 2, y: (viewport.height - image.height * scale) / 2 };
}

/**
 * Keeps the image where it can be seen: smaller than the viewport along an axis, it stays inside
 * it; larger, it covers it (no empty margin on the side it was dragged from).
 */
export function keepInView(view: View, image: Size, viewport: Size): View {
  const axis = (offset: number, content: number, room: number) => (content <= room ? clamp(offset, 0, room - content) : clamp(offset, room - content, 0));
  return { scale: view.scale, x: axis(view.x, image.width * view.scale, viewport.width), y: axis(view.y, image.height * view.scale, viewport.height) };
}

/** Zooms by `factor` keeping the viewport point `at` over the same image point (the cursor, or the centre). */
export function zoomAt(view: View, factor: number, at: { x: number; y: number }, image: Size, viewport: Size): View {
  const scale = clamp(view.scale * factor, MIN_SCALE, MAX_SCALE);
  const k = scale / view.scale;
  return keepInView({ scale, x: at.x - (at.x - view.x) * k, y: at.y - (at.y - view.y) * k }, image, viewport);
}

export function pan(view: View, dx: number, dy: number, image: Size, viewport: Size): View {
  return keepInView({ scale: view.scale, x: view.x + dx, y: view.y + dy }, image, viewport);
}

/** A wheel turn as a zoom factor: one notch (|deltaY| about 100) is one step, up zooms in. */
export function wheelFactor(deltaY: number): number {
  if (deltaY === 0) return 1;
  const notches = clamp(Math.abs(deltaY) / 100, 0.1, 3);
  return deltaY < 0 ? ZOOM_STEP ** notches : 1 / ZOOM_STEP ** notches;
}

export type ViewAction = { type: 'zoom'; factor: number } | { type: 'pan'; dx: number; dy: number } | { type: 'fit' };

/** The keys the focused image answers to: + and - zoom, 0 fits, the arrows pan (they move the image). */
export function keyAction(key: string): ViewAction | undefined {
  switch (key) {
    case '+':
    case '=':
      return { type: 'zoom', factor: ZOOM_STEP };
    case '-':
    case '_':
      return { type: 'zoom', factor: 1 / ZOOM_STEP };
    case '0':
      return { type: 'fit' };
    case 'ArrowLeft':
      return { type: 'pan', dx: -PAN_STEP, dy: 0 };
    case 'ArrowRight':
      return { type: 'pan', dx: PAN_STEP, dy: 0 };
    case 'ArrowUp':
      return { type: 'pan', dx: 0, dy: -PAN_STEP };
    case 'ArrowDown':
      return { type: 'pan', dx: 0, dy: PAN_STEP };
    default:
      return undefined;
  }
}

/** Applies an action, zooming about the viewport's centre. */
export function applyAction(view: View, action: ViewAction, image: Size, viewport: Size): View {
  switch (action.type) {
    case 'zoom':
      return zoomAt(view, action.factor, { x: viewport.width / 2, y: viewport.height / 2 }, image, viewport);
    case 'pan':
      return pan(view, action.dx, action.dy, image, viewport);
    case 'fit':
      return fit(image, viewport);
  }
}
