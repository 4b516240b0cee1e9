// The timeline: every month of the library as a section as tall as its photos will be, so the
// page scrolls through years in both directions; months load as they come near the screen and
// far ones are let go. A scrubber on the right jumps to any month.

import { selectionBar } from "./actions.js";
import { api } from "./api.js";
import { dayOf, h, monthName } from "./dom.js";
import { PhotoGrid } from "./grid.js";
import { memoriesStrip } from "./memories.js";
import { openViewer } from "./viewer.js";

const PAGE = 500;
const HEAD = 120; // photos asked for with the day counts: more than a large screen shows
const NEAR = "1500px 0px"; // load this far ahead of the screen
const KEEP = 6000; // px: sections farther than this from the screen are unloaded

function nextMonth(key) {
  const [y, m] = key.split("-").map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
}

/** The photos of one month of the timeline (not archived), newest first, every page of them. */
async function monthPhotos(key) {
  const photos = [];
  let cursor = null;
  do {
    const page = await api("/api/v1/search", {
      query: { after: key, before: nextMonth(key), archived: false, order: "newest", limit: PAGE, cursor },
    });
    photos.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return photos;
}

export async function timelinePage(main) {
  const heading = h("h1", { class: "visually-hidden" }, "Photos");
  // The newest photos come with the day counts, not after them: the first screen needs no
  // third round trip.
  const [buckets, head] = await Promise.all([
    api("/api/v1/timeline/buckets", { query: { by: "day" } }),
    api("/api/v1/photos", { query: { limit: HEAD } }),
  ]);
  if (!buckets.buckets.length) {
    main.append(
      heading,
      h(
        "div",
        { class: "empty" },
        h("h2", {}, "No photos yet"),
        h("p", {}, "Drop photos or a whole folder anywhere on this page, or use Upload."),
      ),
    );
    return () => {};
  }
  const months = new Map();
  for (const { key, count } of buckets.buckets) {
    const month = key.slice(0, 7);
    if (!months.has(month)) months.set(month, []);
    months.get(month).push([key, count]);
  }
  const wrap = h("div", { class: "timeline" });
  main.append(heading, memoriesStrip(), wrap);
  const grid = new PhotoGrid(wrap, { label: "Timeline", open: (photo) => openViewer(photo, grid) });
  main.prepend(selectionBar(grid, ["album", "favorite", "archive", "download", "trash"]));
  const sections = [...months].map(([key, days]) => grid.addPlaceholder(key, monthName(key), days));
  const loading = new Map();
  for (const section of sections) {
    // drawn now from the head; completed when they load
    const known = head.items.filter((photo) => dayOf(photo).slice(0, 7) === section.key);
    if (!known.length) break;
    grid.fill(section, known);
    section.partial = true;
  }

  const load = (section) => {
    if ((section.photos && !section.partial) || loading.has(section.key)) return loading.get(section.key);
    const promise = monthPhotos(section.key)
      .then((photos) => {
        section.partial = false;
        grid.fill(section, photos);
        grid.paintSelection();
      })
      .finally(() => loading.delete(section.key));
    loading.set(section.key, promise);
    return promise;
  };
  // The viewer's neighbours are the true ones across months: the months before and after the
  // photo shown (and the rest of its own) are loaded first, wherever the page is scrolled.
  grid.near = (photo) => {
    const at = sections.findIndex((s) => s.key === dayOf(photo).slice(0, 7));
    if (at < 0) return Promise.resolve();
    return Promise.all([sections[at - 1], sections[at], sections[at + 1]].filter(Boolean).map(load));
  };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const section = sections.find((s) => s.el === entry.target);
        if (entry.isIntersecting) load(section);
      }
    },
    { rootMargin: NEAR },
  );
  for (const s of sections) observer.observe(s.el);

  // Let go of the tiles of sections far from the screen (their height stays).
  const trim = () => {
    for (const section of sections) {
      const box = section.el.getBoundingClientRect();
      const far = box.bottom < -KEEP || box.top > window.innerHeight + KEEP;
      if (far && section.photos && !section.photos.some((p) => grid.selection.has(p.id))) grid.unload(section);
    }
  };
  let trimTimer = 0;
  const onScroll = () => {
    clearTimeout(trimTimer);
    trimTimer = setTimeout(trim, 300);
    scrubber.update();
  };
  window.addEventListener("scroll", onScroll, { passive: true });

  const scrubber = makeScrubber(sections, async (section) => {
    section.el.scrollIntoView({ block: "start" });
    await load(section);
    section.el.scrollIntoView({ block: "start" });
  });
  main.append(scrubber.el);
  scrubber.update();

  return () => {
    observer.disconnect();
    scrubber.stop();
    window.removeEventListener("scroll", onScroll);
    grid.destroy();
  };
}

/** A rail with the years: click or drag to jump; a slider for the keyboard (arrows: a month,
 * Page Up/Down: a year). */
function makeScrubber(sections, jump) {
  const label = h("span", { class: "scrub-label", "aria-hidden": "true" });
  const years = h("div", { class: "scrub-years", "aria-hidden": "true" });
  const el = h(
    "div",
    {
      class: "scrubber",
      role: "slider",
      tabindex: "0",
      "aria-label": "Jump to a month",
      "aria-valuemin": "0",
      "aria-valuemax": String(sections.length - 1),
      "aria-valuenow": "0",
    },
    years,
    label,
  );
  const tops = () => {
    let y = 0;
    return sections.map((s) => {
      const top = y;
      y += s.el.offsetHeight;
      return top;
    });
  };
  const drawYears = () => {
    years.replaceChildren();
    const positions = tops();
    const total = positions.at(-1) + sections.at(-1).el.offsetHeight || 1;
    let lastYear = null;
    let lastPos = -100;
    sections.forEach((section, i) => {
      const year = section.key.slice(0, 4);
      const pos = (positions[i] / total) * 100;
      if (year !== lastYear && pos - lastPos > 4) {
        const mark = h("span", { class: "scrub-year", "data-index": String(i) }, year);
        mark.style.top = `${pos}%`;
        years.append(mark);
        lastPos = pos;
      }
      lastYear = year;
    });
  };
  const at = (clientY) => {
    const box = el.getBoundingClientRect();
    const fraction = Math.min(Math.max((clientY - box.top) / box.height, 0), 1);
    const positions = tops();
    const total = positions.at(-1) + sections.at(-1).el.offsetHeight;
    let index = positions.findIndex((top) => top > fraction * total) - 1;
    if (index < 0) index = fraction >= 1 || positions.every((t) => t <= fraction * total) ? sections.length - 1 : 0;
    return index;
  };
  let shown = -1;
  const show = (index) => {
    if (index === shown) return; // no attribute write, no style work, while scrolling
    shown = index;
    el.setAttribute("aria-valuenow", String(index));
    el.setAttribute("aria-valuetext", monthName(sections[index].key));
    label.textContent = monthName(sections[index].key);
  };
  let dragging = false;
  el.addEventListener("pointerdown", (event) => {
    dragging = true;
    el.setPointerCapture(event.pointerId);
    el.classList.add("dragging");
    // a year's mark is centred on where the year starts: half of it lies over the newer
    // year, so a click on "2009" jumped there by position; it goes to the year's first month
    const mark = event.target.closest(".scrub-year");
    const index = mark ? Number(mark.dataset.index) : at(event.clientY);
    show(index);
    jump(sections[index]);
  });
  el.addEventListener("pointermove", (event) => {
    const index = at(event.clientY);
    show(index);
    if (dragging) jump(sections[index]);
  });
  el.addEventListener("pointerup", () => {
    dragging = false;
    el.classList.remove("dragging");
  });
  el.addEventListener("keydown", (event) => {
    const now = Number(el.getAttribute("aria-valuenow"));
    const year = sections[now].key.slice(0, 4);
    let to = null;
    if (event.key === "ArrowDown" || event.key === "ArrowRight") to = now + 1;
    if (event.key === "ArrowUp" || event.key === "ArrowLeft") to = now - 1;
    if (event.key === "PageDown") to = sections.findIndex((s, i) => i > now && s.key.slice(0, 4) !== year);
    if (event.key === "PageUp") {
      const earlier = sections.findIndex((s) => s.key.slice(0, 4) === String(Number(year) + 1));
      to = Math.max(earlier, 0);
    }
    if (event.key === "Home") to = 0;
    if (event.key === "End") to = sections.length - 1;
    if (to === null) return;
    event.preventDefault();
    to = Math.min(Math.max(to < 0 ? sections.length - 1 : to, 0), sections.length - 1);
    show(to);
    jump(sections[to]);
  });
  // Where each section starts, read once per layout change rather than once per scroll event.
  let starts = null;
  const moved = new ResizeObserver(() => {
    starts = null;
  });
  moved.observe(sections[0].el.parentElement);
  let frame = 0;
  const update = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (dragging) return;
      if (!starts) starts = sections.map((s) => s.el.offsetTop);
      const y = window.scrollY + 80;
      const atEnd = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        // the last section that starts above y
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= y) lo = mid;
        else hi = mid - 1;
      }
      show(atEnd ? sections.length - 1 : lo);
    });
  };
  const resized = new ResizeObserver(drawYears);
  resized.observe(document.body);
  drawYears();
  const stop = () => {
    moved.disconnect();
    resized.disconnect();
  };
  return { el, update, stop };
}
