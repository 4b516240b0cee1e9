// A grid of photos in justified rows, grouped by day: thumbhash placeholders while images load,
// and selection by click, shift-click, ctrl-click and keyboard.

import { thumbHashToAverageRGBA, thumbHashToDataURL } from "/vendor/thumbhash/thumbhash.js";
import { thumbUrl } from "./api.js";
import { dayName, dayOf, h } from "./dom.js";

const GAP = 4;

export function rowHeight(width) {
  return width < 600 ? 110 : width < 1200 ? 170 : 220;
}

export function aspect(photo) {
  return photo.width && photo.height ? photo.width / photo.height : 1.5;
}

/** Justified rows: each full row exactly fills `width`; the last keeps the target height. */
export function justify(photos, width, target) {
  const rows = [];
  let row = [];
  let sum = 0;
  for (const photo of photos) {
    row.push(photo);
    sum += Math.min(Math.max(aspect(photo), 0.4), 4);
    if (sum * target + GAP * (row.length - 1) >= width) {
      rows.push({ photos: row, height: (width - GAP * (row.length - 1)) / sum, full: true });
      row = [];
      sum = 0;
    }
  }
  if (row.length) rows.push({ photos: row, height: target, full: false });
  return rows;
}

/** How tall a day of `count` photos will be, before its photos are loaded. */
export function estimateHeight(count, width) {
  const target = rowHeight(width);
  const rows = Math.max(1, Math.round((count * 1.4 * target) / width + 0.3));
  return 36 + rows * (target + GAP);
}

function hashBytes(photo) {
  try {
    return photo.thumbhash ? Uint8Array.from(atob(photo.thumbhash), (c) => c.charCodeAt(0)) : null;
  } catch {
    return null;
  }
}

/** The average colour of a photo's thumbhash: cheap enough for every tile at once. */
function averageColour(photo) {
  const hash = hashBytes(photo);
  if (!hash) return "";
  const { r, g, b } = thumbHashToAverageRGBA(hash);
  return `rgb(${Math.round(r * 255)} ${Math.round(g * 255)} ${Math.round(b * 255)})`;
}

// The full placeholder image costs a decode and a PNG encode per tile, so it is drawn in idle
// time, and only for tiles whose thumbnail has not arrived yet (scrolling stays smooth).
const pending = [];
let scheduled = false;
function drawPlaceholders(deadline) {
  scheduled = false;
  while (pending.length && (deadline ? deadline.timeRemaining() > 2 : true)) {
    const [tile, photo] = pending.shift();
    const img = tile.firstChild;
    if (!tile.isConnected || (img.complete && img.naturalWidth)) continue;
    const hash = hashBytes(photo);
    if (hash) tile.style.backgroundImage = `url(${thumbHashToDataURL(hash)})`;
  }
  if (pending.length) schedulePlaceholders();
}
function schedulePlaceholders() {
  if (scheduled) return;
  scheduled = true;
  if (window.requestIdleCallback) requestIdleCallback(drawPlaceholders, { timeout: 200 });
  else setTimeout(drawPlaceholders, 16);
}

/** The shared state of what is selected, in the order the photos are shown. */
export class Selection extends EventTarget {
  constructor() {
    super();
    this.ids = new Set();
    this.anchor = null;
  }
  has(id) {
    return this.ids.has(id);
  }
  get size() {
    return this.ids.size;
  }
  set(ids, on) {
    for (const id of ids) on ? this.ids.add(id) : this.ids.delete(id);
    this.dispatchEvent(new Event("change"));
  }
  toggle(id) {
    this.set([id], !this.ids.has(id));
    this.anchor = id;
  }
  clear() {
    this.ids.clear();
    this.anchor = null;
    this.dispatchEvent(new Event("change"));
  }
}

/**
 * Photos in sections (a month of the timeline, or a page of a search), each laid out by day.
 * `open(photo)` is called when a photo is opened; `share` draws a share link's photos.
 */
export class PhotoGrid {
  constructor(container, { open, share = null, selectable = true, label = "Photos" } = {}) {
    this.el = h("div", { class: "grid", role: "region", "aria-label": label });
    container.append(this.el);
    this.open = open;
    this.share = share;
    this.selectable = selectable;
    this.selection = new Selection();
    this.sections = []; // {key, el, photos, count}
    this.tiles = new Map(); // photo id -> its tile, reused when a section is laid out again
    this.width = this.el.clientWidth || window.innerWidth;
    this.selection.addEventListener("change", () => this.paintSelection());
    this.resize = new ResizeObserver(() => {
      const width = this.el.clientWidth;
      if (width && Math.abs(width - this.width) > 1) {
        this.width = width;
        for (const section of this.sections) if (section.photos) this.layout(section);
      }
    });
    this.resize.observe(this.el);
    this.el.addEventListener("keydown", (event) => this.keydown(event));
    // The photo that has the keyboard focus, so that redrawing its section cannot take it away.
    this.focusedId = null;
    this.el.addEventListener("focusin", (event) => {
      const tile = event.target.closest(".tile");
      this.focusedId = tile ? tile.dataset.id : null;
    });
    this.el.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !this.el.contains(event.relatedTarget)) this.focusedId = null;
    });
  }

  destroy() {
    this.resize.disconnect();
  }

  /** Every loaded photo, in the order shown. */
  photos() {
    return this.sections.flatMap((s) => s.photos || []);
  }

  /** A section to fill later, as tall as its photos will be (the timeline's months). */
  addPlaceholder(key, title, days, before = null) {
    const el = h("section", { class: "section", dataset: { key } }, h("h2", { class: "month" }, title));
    const body = h("div", { class: "section-body" });
    el.append(body);
    const section = { key, el, body, photos: null, days };
    section.estimate = () => days.reduce((sum, [, count]) => sum + estimateHeight(count, this.width), 0);
    body.style.height = `${section.estimate()}px`;
    // Off-screen sections are not rendered at all (content-visibility); until one has been,
    // the browser takes this as its size.
    el.style.containIntrinsicSize = `auto ${section.estimate() + 60}px`;
    this.insert(section, before);
    return section;
  }

  /** A section with its photos now (a page of search results, an album). */
  addSection(key, photos, { title = null } = {}) {
    const el = h("section", { class: "section", dataset: { key } });
    if (title) el.append(h("h2", { class: "month" }, title));
    const body = h("div", { class: "section-body" });
    el.append(body);
    const previous = this.sections.at(-1);
    const section = { key, el, body, photos: [], continues: previous ? lastDay(previous) : null };
    this.insert(section, null);
    this.fill(section, photos);
    return section;
  }

  insert(section, before) {
    if (before) {
      this.el.insertBefore(section.el, before.el);
      this.sections.splice(this.sections.indexOf(before), 0, section);
    } else {
      this.el.append(section.el);
      this.sections.push(section);
    }
  }

  fill(section, photos) {
    section.photos = photos;
    this.layout(section);
  }

  /** Forget a far-away section's tiles, keeping its height (the DOM stays small). */
  unload(section) {
    if (!section.photos) return;
    for (const photo of section.photos) this.tiles.delete(photo.id);
    const height = section.body.offsetHeight;
    section.photos = null;
    section.body.replaceChildren();
    section.body.style.height = `${height}px`;
    this.keepFocus();
  }

  /** Give the focus back to its photo if a redraw moved that photo's tile (and so dropped it). */
  keepFocus() {
    if (!this.focusedId) return;
    const active = document.activeElement;
    if (active && active !== document.body && active.dataset && active.dataset.id === this.focusedId) return;
    if (active && active !== document.body && !this.el.contains(active)) return;
    const tile = this.tiles.get(this.focusedId);
    if (tile?.isConnected) tile.focus({ preventScroll: true });
  }

  remove(ids) {
    const gone = new Set(ids);
    for (const id of ids) this.tiles.delete(id);
    for (const section of this.sections) {
      if (!section.photos) continue;
      const kept = section.photos.filter((p) => !gone.has(p.id));
      if (kept.length !== section.photos.length) this.fill(section, kept);
    }
    this.selection.set(ids, false);
  }

  layout(section) {
    const width = this.el.clientWidth || this.width;
    const target = rowHeight(width);
    const days = [];
    for (const photo of section.photos) {
      const day = dayOf(photo);
      if (!days.length || days.at(-1).day !== day) days.push({ day, photos: [] });
      days.at(-1).photos.push(photo);
    }
    const out = [];
    for (const [index, { day, photos }] of days.entries()) {
      const group = h("div", { class: "day" });
      if (!(index === 0 && section.continues === day)) {
        const whole = photos.map((p) => p.id);
        group.append(
          h(
            "div",
            { class: "day-head" },
            h("h3", {}, dayName(day)),
            this.selectable
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "link day-select",
                    "aria-label": `Select day: ${dayName(day)}`,
                    onclick: () => this.selection.set(whole, !whole.every((id) => this.selection.has(id))),
                  },
                  "Select day",
                )
              : null,
          ),
        );
      }
      for (const row of justify(photos, width, target)) {
        const line = h("div", { class: "row" });
        for (const photo of row.photos) {
          const w = Math.floor(Math.min(Math.max(aspect(photo), 0.4), 4) * row.height);
          line.append(this.tileFor(photo, w, Math.floor(row.height)));
        }
        group.append(line);
      }
      out.push(group);
    }
    section.body.style.height = "";
    section.body.replaceChildren(...out);
    this.keepFocus();
  }

  /** The photo's tile at this size: the one already drawn if there is one (its image stays). */
  tileFor(photo, width, height) {
    const known = this.tiles.get(photo.id);
    if (known && known.dataset.favorite === String(Boolean(photo.favorite))) {
      known.style.width = `${width}px`;
      known.style.height = `${height}px`;
      return known;
    }
    const tile = this.tile(photo, width, height);
    this.tiles.set(photo.id, tile);
    return tile;
  }

  tile(photo, width, height) {
    const label = `${photo.filename}, ${dayName(dayOf(photo))}`;
    const img = h("img", {
      src: thumbUrl(photo, "thumb", this.share),
      alt: "",
      loading: "lazy",
      decoding: "async",
      width,
      height,
      draggable: "false",
    });
    img.addEventListener("load", () => img.classList.add("loaded"), { once: true });
    const link = h(
      "a",
      {
        class: "tile",
        href: this.share ? `#${photo.id}` : `/photos/${photo.id}`,
        "aria-label": this.selection.has(photo.id) ? `${label}, selected` : label,
        dataset: { id: photo.id, label, favorite: String(Boolean(photo.favorite)) },
      },
      img,
    );
    link.style.width = `${width}px`;
    link.style.height = `${height}px`;
    const colour = averageColour(photo);
    if (colour) {
      link.style.backgroundColor = colour;
      pending.push([link, photo]);
      schedulePlaceholders();
    }
    if (photo.favorite) link.append(h("span", { class: "badge fav", "aria-hidden": "true" }, "♥"));
    if (photo.status === "failed") link.append(h("span", { class: "badge failed", title: photo.error || "" }, "!"));
    if (this.selectable) {
      link.append(
        h(
          "span",
          {
            class: "check",
            "aria-hidden": "true",
            onclick: (e) => {
              e.preventDefault();
              e.stopPropagation();
              this.pick(photo.id, e.shiftKey);
            },
          },
          "✓",
        ),
      );
    }
    link.addEventListener("click", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      if (this.selectable && (this.selection.size || event.shiftKey || event.ctrlKey || event.metaKey)) {
        this.pick(photo.id, event.shiftKey);
      } else {
        this.open(photo, this);
      }
    });
    if (this.selection.has(photo.id)) link.classList.add("selected");
    return link;
  }

  /** Select or unselect one photo; with shift, the whole range from the last one picked. */
  pick(id, range) {
    const ids = this.photos().map((p) => p.id);
    if (range && this.selection.anchor && ids.includes(this.selection.anchor)) {
      const [a, b] = [ids.indexOf(this.selection.anchor), ids.indexOf(id)].sort((x, y) => x - y);
      this.selection.set(ids.slice(a, b + 1), true);
      this.selection.anchor = id;
    } else {
      this.selection.toggle(id);
    }
  }

  paintSelection() {
    for (const tile of this.el.querySelectorAll(".tile")) {
      const on = this.selection.has(tile.dataset.id);
      tile.classList.toggle("selected", on);
      tile.setAttribute("aria-label", on ? `${tile.dataset.label}, selected` : tile.dataset.label);
    }
    this.el.classList.toggle("selecting", this.selection.size > 0);
  }

  /** Arrows move between photos, space selects (shift: a range), Enter opens, Esc unselects. */
  keydown(event) {
    const tile = event.target.closest?.(".tile");
    if (!tile) return;
    const tiles = [...this.el.querySelectorAll(".tile")];
    const index = tiles.indexOf(tile);
    const move = (to) => {
      if (to < 0 || to >= tiles.length) return;
      event.preventDefault();
      tiles[to].focus();
      if (event.shiftKey && this.selectable) this.pick(tiles[to].dataset.id, true);
    };
    switch (event.key) {
      case "ArrowRight":
        move(index + 1);
        break;
      case "ArrowLeft":
        move(index - 1);
        break;
      case "ArrowDown":
        move(nearestInRow(tiles, index, +1));
        break;
      case "ArrowUp":
        move(nearestInRow(tiles, index, -1));
        break;
      case " ":
        if (!this.selectable) return;
        event.preventDefault();
        this.pick(tile.dataset.id, event.shiftKey);
        break;
      case "Escape":
        if (this.selection.size) {
          event.preventDefault();
          this.selection.clear();
        }
        break;
      case "a":
        if ((event.ctrlKey || event.metaKey) && this.selectable) {
          event.preventDefault();
          this.selection.set(
            this.photos().map((p) => p.id),
            true,
          );
        }
        break;
      default:
    }
  }
}

function lastDay(section) {
  const photos = section.photos || [];
  return photos.length ? dayOf(photos.at(-1)) : null;
}

/** The tile in the next (or previous) row whose centre is nearest this one's. */
function nearestInRow(tiles, index, direction) {
  const here = tiles[index].getBoundingClientRect();
  const x = here.left + here.width / 2;
  let best = -1;
  let bestRowTop = null;
  let bestDistance = Infinity;
  for (let i = index + direction; i >= 0 && i < tiles.length; i += direction) {
    const box = tiles[i].getBoundingClientRect();
    const sameRow = Math.abs(box.top - here.top) < 2;
    if (sameRow) continue;
    if (bestRowTop !== null && Math.abs(box.top - bestRowTop) >= 2) break;
    bestRowTop = box.top;
    const distance = Math.abs(box.left + box.width / 2 - x);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  }
  return best;
}
