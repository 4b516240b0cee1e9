// Pages that are one list of photos, a page at a time as the user scrolls: search results,
// favorites, archive, trash, a person's photos.

import { selectionBar } from "./actions.js";
import { api } from "./api.js";
import { h, toast } from "./dom.js";
import { PhotoGrid } from "./grid.js";
import { openViewer } from "./viewer.js";

/**
 * A grid filled page by page from `load(cursor)` ({items, next_cursor}) as the end nears.
 * Returns {grid, done} where done resolves after the first page.
 */
export function pagedGrid(
  container,
  load,
  {
    actions = [],
    label = "Photos",
    empty = "Nothing here.",
    album = null,
    share = null,
    open = null,
    onFirst = null,
  } = {},
) {
  const grid = new PhotoGrid(container, {
    label,
    share,
    selectable: actions.length > 0,
    open: open || ((photo) => openViewer(photo, grid)),
  });
  if (actions.length) container.prepend(selectionBar(grid, actions, { album }));
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const status = h("p", { class: "muted list-status", role: "status" });
  container.append(sentinel, status);
  let cursor = null;
  let busy = false;
  let finished = false;
  let pages = 0;
  const more = async () => {
    if (busy || finished) return;
    busy = true;
    try {
      const page = await load(cursor);
      if (pages === 0 && onFirst) onFirst(page);
      pages++;
      if (page.items.length) grid.addSection(`page-${pages}`, page.items);
      cursor = page.next_cursor;
      finished = !cursor;
      if (finished) status.textContent = grid.photos().length ? "" : empty;
    } catch (err) {
      finished = true;
      status.textContent = err.message;
      if (err.code !== "invalid_query") toast(err.message, "error");
      throw err;
    } finally {
      busy = false;
    }
    // keep going while the end is still in sight
    if (!finished && sentinel.getBoundingClientRect().top < window.innerHeight + 1500) await more();
  };
  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) more().catch(() => {});
    },
    { rootMargin: "1500px 0px" },
  );
  observer.observe(sentinel);
  const done = more();
  grid.cleanup = () => {
    observer.disconnect();
    grid.destroy();
  };
  return { grid, done };
}

export function simpleListPage(title, path, query, actions, empty) {
  return async (main) => {
    main.append(h("h1", {}, title));
    const { grid, done } = pagedGrid(main, (cursor) => api(path, { query: { ...query, cursor, limit: 200 } }), {
      actions,
      label: title,
      empty,
    });
    await done.catch(() => {});
    return grid.cleanup;
  };
}

export const favoritesPage = simpleListPage(
  "Favorites",
  "/api/v1/search",
  { favorite: true },
  ["album", "unfavorite", "download", "trash"],
  "No favorites yet: press ♡ on a photo.",
);

export const archivePage = simpleListPage(
  "Archive",
  "/api/v1/search",
  { archived: true },
  ["unarchive", "album", "download", "trash"],
  "Nothing archived. Archived photos stay out of the timeline.",
);

export async function trashPage(main) {
  main.append(
    h("h1", {}, "Trash"),
    h("p", { class: "muted" }, "Photos in the trash are deleted for good after 30 days."),
  );
  const { grid, done } = pagedGrid(main, (cursor) => api("/api/v1/trash", { query: { cursor, limit: 200 } }), {
    actions: ["restore", "delete"],
    label: "Trash",
    empty: "The trash is empty.",
  });
  await done.catch(() => {});
  return grid.cleanup;
}
