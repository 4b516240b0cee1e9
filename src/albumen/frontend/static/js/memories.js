// Memories: this day in earlier years and recent trips, found by the server in the library.
// A strip of them on the start page, each a small story: open it (its photos, a slideshow),
// share it (as an album with a link), or hide it (with Undo).

import { shareDialog } from "./albums.js";
import { api, thumbUrl } from "./api.js";
import { h, toast } from "./dom.js";
import { pagedGrid } from "./lists.js";
import { openViewer } from "./viewer.js";

const longDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });

function localDate(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d);
}

/** Today as the person sees it (their clock, not the server's). */
export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function memoryTitle(memory) {
  if (memory.kind === "on_this_day") return memory.years_ago === 1 ? "1 year ago" : `${memory.years_ago} years ago`;
  const where = memory.places[0]?.split(",")[0];
  return where ? `A trip to ${where}` : "A trip";
}

export function memoryDates(memory) {
  if (memory.start === memory.end) return longDate.format(localDate(memory.start));
  return longDate.formatRange(localDate(memory.start), localDate(memory.end));
}

function memoryCard(memory, onHide) {
  const title = memoryTitle(memory);
  return h(
    "li",
    { class: "memory-card", dataset: { key: memory.key } },
    h(
      "a",
      { href: `/memories/${memory.key}` },
      h("img", { src: thumbUrl(memory.cover_ids[0], "preview"), alt: "", loading: "lazy" }),
      h(
        "span",
        { class: "memory-text" },
        h("span", { class: "memory-title" }, title),
        h("span", { class: "memory-date" }, memoryDates(memory)),
      ),
    ),
    h(
      "button",
      { type: "button", class: "memory-hide", "aria-label": `Hide “${title}”`, onclick: () => onHide(memory) },
      "×",
    ),
  );
}

async function hide(memory, then) {
  await api(`/api/v1/memories/${memory.key}/hidden`, { method: "PUT" });
  toast(`“${memoryTitle(memory)}” is hidden`, "info", {
    label: "Undo",
    run: async () => {
      await api(`/api/v1/memories/${memory.key}/hidden`, { method: "DELETE" });
      then(true);
    },
  });
  then(false);
}

/** The strip of memories at the top of the start page (nothing when there are none). */
export function memoriesStrip() {
  const list = h("ul", { class: "memory-cards" });
  const strip = h("section", { class: "memories", "aria-labelledby": "memories-title", hidden: "" });
  strip.append(h("h2", { id: "memories-title", class: "memories-title" }, "Memories"), list);
  const draw = async () => {
    let found;
    try {
      found = await api("/api/v1/memories", { query: { today: today() } });
    } catch {
      return; // the timeline is what matters: memories are a bonus
    }
    const onHide = (memory) => hide(memory, () => draw()).catch((err) => toast(err.message, "error"));
    list.replaceChildren(...found.items.map((memory) => memoryCard(memory, onHide)));
    strip.hidden = found.items.length === 0;
  };
  draw();
  return strip;
}

/** A memory as a story: its title and days, play, share, hide, and its photos. */
export async function memoryPage(main, _params, navigate, { key }) {
  const found = await api("/api/v1/memories", { query: { today: today() } });
  const memory = found.items.find((m) => m.key === key) || fromKey(key);
  const title = memoryTitle(memory);
  document.title = `${title} · Albumen`;
  const count = h("p", { class: "muted" }, memoryDates(memory));
  const play = h("button", { type: "button", class: "primary", disabled: "" }, "Play");
  const tools = h(
    "div",
    { class: "tools" },
    play,
    h(
      "button",
      { type: "button", onclick: () => shareMemory(memory).catch((err) => toast(err.message, "error")) },
      "Share",
    ),
    h(
      "button",
      {
        type: "button",
        onclick: () =>
          hide(memory, (shown) => (shown ? navigate(location.pathname, { replace: true }) : navigate("/"))).catch(
            (err) => toast(err.message, "error"),
          ),
      },
      "Hide",
    ),
  );
  main.append(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, title), count), tools),
    memory.places.length ? h("p", { class: "memory-places" }, memory.places.join(" · ")) : "",
  );
  const { grid, done } = pagedGrid(
    main,
    (cursor) => api(`/api/v1/memories/${key}/photos`, { query: { cursor, limit: 200 } }),
    {
      label: title,
      empty: "The photos of these days are gone.",
      onFirst: (page) => {
        play.disabled = !page.items.length;
      },
    },
  );
  play.addEventListener("click", () => {
    const first = grid.photos()[0];
    if (first) openViewer(first, grid, { play: true });
  });
  await done.catch(() => {});
  return grid.cleanup;
}

/** A memory no longer listed (hidden, or past its day): what its key says. */
function fromKey(key) {
  const days = key.match(/\d{4}-\d{2}-\d{2}/g) || [];
  const kind = key.startsWith("trip-") ? "trip" : "on_this_day";
  const start = days[0] || today();
  const years = Number(today().slice(0, 4)) - Number(start.slice(0, 4));
  return { key, kind, start, end: days[1] || start, years_ago: years, places: [], cover_ids: [] };
}

/** Share a memory: an album of its photos, and a link to it. */
async function shareMemory(memory) {
  const ids = [];
  let cursor = null;
  do {
    const page = await api(`/api/v1/memories/${memory.key}/photos`, { query: { cursor, limit: 500 } });
    ids.push(...page.items.map((p) => p.id));
    cursor = page.next_cursor;
  } while (cursor);
  const name = `${memoryTitle(memory)} (${memoryDates(memory)})`;
  const album = await api("/api/v1/albums", { method: "POST", json: { name } });
  for (let i = 0; i < ids.length; i += 1000) {
    await api(`/api/v1/albums/${album.id}/photos`, { method: "PUT", json: { ids: ids.slice(i, i + 1000) } });
  }
  shareDialog({ album_id: album.id }, name);
}
