// The bar shown while photos are selected, with what can be done to them all at once.

import { api, originalUrl, session } from "./api.js";
import { h, toast } from "./dom.js";

/**
 * Show a selection bar for `grid`. `actions` names the buttons: "album", "favorite", "archive",
 * "unarchive", "trash", "download", "remove" (from `album`), "restore", "delete".
 */
export function selectionBar(grid, actions, { album = null, onChange = () => {} } = {}) {
  const count = h("span", { class: "count", "aria-live": "polite" });
  const bar = h("div", { class: "selection-bar", role: "toolbar", "aria-label": "Selected photos", hidden: true });
  const ids = () => [...grid.selection.ids];
  const done = (message, removed = []) => {
    if (removed.length) grid.remove(removed);
    grid.selection.clear();
    toast(message);
    onChange();
  };
  const run = async (fn) => {
    try {
      await fn();
    } catch (err) {
      toast(err.message, "error");
    }
  };
  const buttons = {
    album: () =>
      run(async () => {
        const chosen = await chooseAlbum();
        if (!chosen) return;
        const answer = await api(`/api/v1/albums/${chosen.id}/photos`, { method: "PUT", json: { ids: ids() } });
        done(`Added ${answer.ids.length} to ${chosen.name}`);
      }),
    favorite: () =>
      run(async () => {
        await api("/api/v1/photos", { method: "PATCH", json: { ids: ids(), favorite: true } });
        for (const p of grid.photos()) if (grid.selection.has(p.id)) p.favorite = true;
        for (const s of grid.sections) if (s.photos) grid.layout(s);
        done("Added to favorites");
      }),
    unfavorite: () =>
      run(async () => {
        const chosen = ids();
        await api("/api/v1/photos", { method: "PATCH", json: { ids: chosen, favorite: false } });
        done("Removed from favorites", chosen);
      }),
    archive: () =>
      run(async () => {
        const chosen = ids();
        await api("/api/v1/photos", { method: "PATCH", json: { ids: chosen, archived: true } });
        done(`Archived ${chosen.length}`, chosen);
      }),
    unarchive: () =>
      run(async () => {
        const chosen = ids();
        await api("/api/v1/photos", { method: "PATCH", json: { ids: chosen, archived: false } });
        done(`Back in the timeline: ${chosen.length}`, chosen);
      }),
    trash: () =>
      run(async () => {
        const answer = await api("/api/v1/photos/trash", { method: "POST", json: { ids: ids() } });
        done(`Moved ${answer.ids.length} to the trash`, answer.ids);
      }),
    restore: () =>
      run(async () => {
        const answer = await api("/api/v1/photos/restore", { method: "POST", json: { ids: ids() } });
        done(`Restored ${answer.ids.length}`, answer.ids);
      }),
    delete: () =>
      run(async () => {
        const chosen = ids();
        if (!confirm(`Delete ${chosen.length} photos for good? This cannot be undone.`)) return;
        const answer = await api("/api/v1/trash/empty", { method: "POST", json: { ids: chosen } });
        done(`Deleted ${answer.ids.length} for good`, answer.ids);
      }),
    remove: () =>
      run(async () => {
        const chosen = ids();
        await api(`/api/v1/albums/${album}/photos`, { method: "DELETE", json: { ids: chosen } });
        done(`Removed ${chosen.length} from the album`, chosen);
      }),
    download: () => {
      const chosen = grid.photos().filter((p) => grid.selection.has(p.id));
      if (chosen.length === 1) {
        const link = h("a", { href: originalUrl(chosen[0]), download: chosen[0].filename });
        document.body.append(link);
        link.click();
        link.remove();
        return;
      }
      // several: one zip, which the server streams; a form's answer is saved by the browser
      // as it arrives (a browser blocked all but the first few separate downloads)
      const form = h(
        "form",
        { method: "POST", action: "/api/v1/photos/download", hidden: true },
        h("input", { type: "hidden", name: "ids", value: chosen.map((p) => p.id).join(",") }),
        h("input", { type: "hidden", name: "csrf_token", value: session.csrf }),
      );
      document.body.append(form);
      form.submit();
      form.remove();
    },
  };
  const labels = {
    album: "Add to album",
    favorite: "Favorite",
    unfavorite: "Unfavorite",
    archive: "Archive",
    unarchive: "Unarchive",
    trash: "Trash",
    restore: "Restore",
    delete: "Delete for good",
    remove: "Remove from album",
    download: "Download",
  };
  bar.append(
    h(
      "button",
      { type: "button", class: "icon", "aria-label": "Clear selection", onclick: () => grid.selection.clear() },
      "✕",
    ),
    count,
    ...actions.map((name) =>
      h("button", { type: "button", dataset: { action: name }, onclick: buttons[name] }, labels[name]),
    ),
  );
  grid.selection.addEventListener("change", () => {
    bar.hidden = grid.selection.size === 0;
    count.textContent = `${grid.selection.size} selected`;
  });
  return bar;
}

/** A dialog to pick one of the user's albums, or make a new one. */
export async function chooseAlbum() {
  const albums = await api("/api/v1/albums", { query: { include_sub: false } });
  return new Promise((resolve) => {
    const name = h("input", { id: "new-album-name", type: "text", maxlength: "200" });
    const list = h(
      "ul",
      { class: "album-choices" },
      albums.map((album) =>
        h(
          "li",
          {},
          h("button", { type: "button", onclick: () => finish(album) }, `${album.name} (${album.photo_count})`),
        ),
      ),
    );
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "choose-album-title" },
      h("h2", { id: "choose-album-title" }, "Add to album"),
      albums.length ? list : h("p", {}, "No albums yet."),
      h(
        "form",
        {
          method: "dialog",
          class: "inline",
          onsubmit: async (event) => {
            event.preventDefault();
            if (!name.value.trim()) return;
            try {
              finish(await api("/api/v1/albums", { method: "POST", json: { name: name.value.trim() } }));
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        h("label", { for: "new-album-name" }, "New album"),
        name,
        h("button", { type: "submit", class: "primary" }, "Create and add"),
      ),
      h("button", { type: "button", onclick: () => finish(null) }, "Cancel"),
    );
    let settled = false;
    function finish(value) {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener("close", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
  });
}
