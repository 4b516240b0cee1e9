// Zoom and pan for the viewer's photo: the wheel (around the pointer), a pinch, a double click
// or a double tap, the keyboard (+, -, 0); drag to move around a zoomed photo. The image keeps
// its layout box and is transformed (translate, then scale, from its top-left corner), kept
// so that it always covers the stage.

const MAX = 8;
const DOUBLE = 2.5; // what a double click or tap zooms to
const TAP_MS = 300;

export function makeZoomable(stage, img, { onZoom = () => {} } = {}) {
  let scale = 1;
  let x = 0;
  let y = 0;
  const pointers = new Map();
  let pinch = null;
  let lastTap = null;

  const apply = () => {
    img.style.transform = scale === 1 ? "" : `translate(${x}px, ${y}px) scale(${scale})`;
    stage.classList.toggle("zoomed", scale > 1);
  };

  // keep the scaled box over the whole stage: no empty band opens at an edge
  const clamp = () => {
    const width = img.offsetWidth; // the layout box: a transform does not change it
    const height = img.offsetHeight;
    x = Math.min(0, Math.max(width - width * scale, x));
    y = Math.min(0, Math.max(height - height * scale, y));
  };

  /** Zoom to ``to`` (1 to 8) keeping the point (stage coordinates) where it is on screen. */
  const zoomTo = (to, px, py) => {
    const next = Math.min(MAX, Math.max(1, to));
    x = px - (px - x) * (next / scale);
    y = py - (py - y) * (next / scale);
    scale = next;
    if (scale === 1) {
      x = 0;
      y = 0;
    }
    clamp();
    apply();
    onZoom(scale);
  };

  /** A point on screen in the image's own (untransformed) box: where the transform's
   * translation is measured from. */
  const local = (clientX, clientY) => {
    const at = img.getBoundingClientRect(); // the transformed box: its corner is moved by x, y
    return [clientX - (at.left - x), clientY - (at.top - y)];
  };

  const zoomAround = (factor, clientX, clientY) => {
    const [px, py] = local(clientX, clientY);
    zoomTo(scale * factor, px, py);
  };

  const centre = () => {
    const box = stage.getBoundingClientRect();
    return [box.left + box.width / 2, box.top + box.height / 2];
  };

  stage.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      zoomAround(Math.exp(-event.deltaY * 0.002), event.clientX, event.clientY);
    },
    { passive: false },
  );
  stage.addEventListener("dblclick", (event) => {
    if (event.target.closest("button")) return;
    toggle(event.clientX, event.clientY);
  });

  const toggle = (clientX, clientY) => {
    if (scale > 1) zoomTo(1, 0, 0);
    else zoomAround(DOUBLE, clientX, clientY);
  };

  stage.addEventListener("pointerdown", (event) => {
    if (event.target.closest("button")) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), scale };
    }
    if (scale > 1 || pointers.size === 2) stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    const before = pointers.get(event.pointerId);
    if (!before) return;
    const now = { x: event.clientX, y: event.clientY };
    pointers.set(event.pointerId, now);
    if (pointers.size === 2 && pinch) {
      const [a, b] = [...pointers.values()];
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      const [px, py] = local((a.x + b.x) / 2, (a.y + b.y) / 2);
      zoomTo((pinch.scale * distance) / (pinch.distance || 1), px, py);
    } else if (pointers.size === 1 && scale > 1) {
      x += now.x - before.x;
      y += now.y - before.y;
      clamp();
      apply();
    }
  });
  const up = (event) => {
    const before = pointers.get(event.pointerId);
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (event.type !== "pointerup" || event.pointerType !== "touch" || !before) return;
    // a double tap: two short taps close together (a phone sends no dblclick when the page
    // handles its own gestures)
    const tap = { at: event.timeStamp, x: event.clientX, y: event.clientY };
    if (lastTap && tap.at - lastTap.at < TAP_MS && Math.hypot(tap.x - lastTap.x, tap.y - lastTap.y) < 30) {
      lastTap = null;
      toggle(tap.x, tap.y);
    } else lastTap = tap;
  };
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);

  return {
    get scale() {
      return scale;
    },
    /** Back to the whole photo (a new photo is shown whole). */
    reset() {
      scale = 1;
      x = 0;
      y = 0;
      apply();
    },
    zoomIn() {
      zoomAround(1.5, ...centre());
    },
    zoomOut() {
      zoomAround(1 / 1.5, ...centre());
    },
    whole() {
      zoomTo(1, 0, 0);
    },
  };
}
