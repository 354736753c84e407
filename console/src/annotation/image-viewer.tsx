import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { ErrorNote } from '../ui/components';
import { useAnnotationApi } from './use-annotation-api';
import { applyAction, fit, keyAction, wheelFactor, zoomAt, type Size, type View, type ViewAction } from './zoom';

/**
 * A task's image, fetched with the token (an <img> cannot send it) as a blob URL; zoomed and
 * panned with the buttons, the wheel (about the cursor), dragging, or the keyboard once focused.
 */
export function ImageViewer({ taskId }: { taskId: string }) {
  const api = useAnnotationApi();
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<Error>();
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });
  const viewport = useRef<HTMLDivElement>(null);
  const image = useRef<Size>({ width: 0, height: 0 });
  const drag = useRef<{ x: number; y: number } | null>(null);

  useEffect(() => {
    let live = true;
    let made: string | undefined;
    setUrl(undefined);
    setError(undefined);
    api.imageUrl(taskId).then(
      (u) => {
        made = u;
        if (live) setUrl(u);
        else URL.revokeObjectURL(u);
      },
      (err: Error) => live && setError(err),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, taskId]);

  const room = (): Size => ({ width: viewport.current?.clientWidth ?? 0, height: viewport.current?.clientHeight ?? 0 });
  const act = useCallback((action: ViewAction) => setView((v) => applyAction(v, action, image.current, room())), []);

  // React's wheel listener is passive: the page would scroll as well. A native one may prevent that.
  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const box = el.getBoundingClientRect();
      setView((v) => zoomAt(v, wheelFactor(e.deltaY), { x: e.clientX - box.left, y: e.clientY - box.top }, image.current, room()));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [url]);

  const onKeyDown = (e: KeyboardEvent) => {
    const action = keyAction(e.key);
    if (!action || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    act(action);
  };
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    drag.current = { x: e.clientX, y: e.clientY };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const from = drag.current;
    if (!from) return;
    drag.current = { x: e.clientX, y: e.clientY };
    act({ type: 'pan', dx: e.clientX - from.x, dy: e.clientY - from.y });
  };
  const endDrag = () => (drag.current = null);

  if (error) return <ErrorNote error={error} />;
  return (
    <figure className="ann-viewer">
      <div
        ref={viewport}
        className="ann-viewport"
        tabIndex={0}
        role="group"
        aria-label="Task image: + and - zoom, 0 fits, the arrow keys move it"
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
      >
        {url ? (
          <img
            src={url}
            alt="The image to annotate"
            data-testid="task-image"
            draggable={false}
            style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }}
            onLoad={(e) => {
              image.current = { width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight };
              setView(fit(image.current, room()));
            }}
          />
        ) : (
          <p className="muted" role="status">
            Loading the image…
          </p>
        )}
      </div>
      <figcaption className="ann-viewer-controls">
        <span role="toolbar" aria-label="Zoom and pan">
          <button type="button" onClick={() => act({ type: 'zoom', factor: 1.25 })} aria-label="Zoom in">
            +
          </button>
          <button type="button" onClick={() => act({ type: 'zoom', factor: 0.8 })} aria-label="Zoom out">
            −
          </button>
          <button type="button" onClick={() => act({ type: 'fit' })}>
            Fit
          </button>
          <button type="button" onClick={() => act({ type: 'pan', dx: -40, dy: 0 })} aria-label="Move left">
            ←
          </button>
          <button type="button" onClick={() => act({ type: 'pan', dx: 40, dy: 0 })} aria-label="Move right">
            →
          </button>
          <button type="button" onClick={() => act({ type: 'pan', dx: 0, dy: -40 })} aria-label="Move up">
            ↑
          </button>
          <button type="button" onClick={() => act({ type: 'pan', dx: 0, dy: 40 })} aria-label="Move down">
            ↓
          </button>
        </span>{' '}
        <output aria-live="polite" data-testid="zoom-level">
          {Math.round(view.scale * 100)}%
        </output>
      </figcaption>
    </figure>
  );
}
