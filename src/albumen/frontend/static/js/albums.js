// Albums: the list, one album with its breadcrumbs, sub-albums and photos, and share links.

import { api, thumbUrl } from "./api.js";
import { h, toast } from "./dom.js";
import { pagedGrid } from "./lists.js";

// Albums without a chosen cover show their first photo, asked for once the card is near; an
// album whose photos are all in its sub-albums (a "Trips" of trips) shows theirs.
const covers = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      covers.unobserve(entry.target);
      const slot = entry.target;
      api(`/api/v1/albums/${slot.dataset.album}/photos`, { query: { limit: 1, include_sub: true } })
        .then((page) => {
          if (page.items.length) slot.replaceWith(h("img", { src: thumbUrl(page.items[0]), alt: "", loading: "lazy" }));
        })
        .catch(() => {});
    }
  },
  { rootMargin: "600px" },
);

function albumCard(album) {
  const cover = album.cover_photo_id
    ? h("img", { src: thumbUrl(album.cover_photo_id), alt: "", loading: "lazy" })
    : h("span", { class: "no-cover", "aria-hidden": "true", dataset: { album: album.id } }, "▦");
  if (!album.cover_photo_id && (album.total_count ?? album.photo_count)) covers.observe(cover);
  const count = album.total_count ?? album.photo_count;
  return h(
    "li",
    { class: "card" },
    h(
      "a",
      { href: `/albums/${album.id}` },
      cover,
      h("span", { class: "card-title" }, album.name),
      h(
        "span",
        { class: "card-meta" },
        `${count} photo${count === 1 ? "" : "s"}${album.role !== "owner" ? ` · shared with you` : ""}`,
      ),
    ),
  );
}

async function promptName(title, value = "") {
  return new Promise((resolve) => {
    const input = h("input", { id: "album-name", type: "text", required: true, maxlength: "200", value });
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "name-title" },
      h(
        "form",
        {
          method: "dialog",
          onsubmit: (event) => {
            event.preventDefault();
            dialog.close(input.value.trim());
          },
        },
        h("h2", { id: "name-title" }, title),
        h("label", { for: "album-name" }, "Name"),
        input,
        h(
          "div",
          { class: "buttons" },
          h("button", { type: "button", onclick: () => dialog.close("") }, "Cancel"),
          h("button", { type: "submit", class: "primary" }, "Save"),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue || null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export async function albumsPage(main, _params, navigate) {
  const albums = await api("/api/v1/albums", { query: { include_sub: true } });
  const top = albums.filter((a) => !a.parent_id || !albums.some((b) => b.id === a.parent_id));
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Albums"),
      h(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: async () => {
            const name = await promptName("New album");
            if (!name) return;
            try {
              const album = await api("/api/v1/albums", { method: "POST", json: { name } });
              navigate(`/albums/${album.id}`);
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        "New album",
      ),
    ),
    top.length
      ? h("ul", { class: "cards" }, top.map(albumCard))
      : h(
          "p",
          { class: "empty" },
          "No albums yet. Select photos in the timeline and choose “Add to album”, or make one here.",
        ),
  );
  return () => {};
}

export async function albumPage(main, _params, navigate, { id }) {
  const album = await api(`/api/v1/albums/${id}`);
  const owner = album.role === "owner";
  const crumbs = h(
    "nav",
    { class: "breadcrumbs", "aria-label": "Breadcrumbs" },
    h(
      "ol",
      {},
      h("li", {}, h("a", { href: "/albums" }, "Albums")),
      album.path.map((a) => h("li", {}, h("a", { href: `/albums/${a.id}` }, a.name))),
      h("li", { "aria-current": "page" }, album.name),
    ),
  );
  // one zip of the album and its sub-albums, streamed by the server and saved as it comes
  const download = h("a", { class: "button", href: `/api/v1/albums/${album.id}/download`, download: "" }, "Download");
  const mapLink = h("a", { class: "button", href: `/map?album=${album.id}` }, "Show on map");
  const tools = owner
    ? h(
        "div",
        { class: "tools" },
        download,
        mapLink,
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              const name = await promptName("New album inside this one");
              if (!name) return;
              try {
                const child = await api("/api/v1/albums", { method: "POST", json: { name, parent_id: album.id } });
                navigate(`/albums/${child.id}`);
              } catch (err) {
                toast(err.message, "error");
              }
            },
          },
          "New sub-album",
        ),
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              const name = await promptName("Rename album", album.name);
              if (!name) return;
              try {
                await api(`/api/v1/albums/${album.id}`, { method: "PATCH", json: { name } });
                navigate(location.pathname, { replace: true });
              } catch (err) {
                toast(err.message, "error");
              }
            },
          },
          "Rename",
        ),
        h("button", { type: "button", onclick: () => shareDialog({ album_id: album.id }, album.name) }, "Share link"),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: async () => {
              if (!confirm(`Delete the album “${album.name}”? Its photos stay in your library.`)) return;
              try {
                await api(`/api/v1/albums/${album.id}`, { method: "DELETE", query: { recursive: true } });
                navigate(album.parent_id ? `/albums/${album.parent_id}` : "/albums");
              } catch (err) {
                toast(err.message, "error");
              }
            },
          },
          "Delete album",
        ),
      )
    : null;
  main.append(
    crumbs,
    h("div", { class: "page-head" }, h("h1", {}, album.name), tools || h("div", { class: "tools" }, download, mapLink)),
  );
  if (album.description) main.append(h("p", { class: "description" }, album.description));
  if (album.children.length) {
    main.append(
      h("h2", { class: "visually-hidden" }, "Albums inside"),
      h("ul", { class: "cards small" }, album.children.map(albumCard)),
    );
  }
  const { grid, done } = pagedGrid(
    main,
    (cursor) => api(`/api/v1/albums/${id}/photos`, { query: { cursor, limit: 200 } }),
    {
      actions: owner ? ["album", "favorite", "download", "remove"] : ["download"],
      album: id,
      label: `Photos in ${album.name}`,
      empty: "No photos in this album yet: select some in the timeline and choose “Add to album”.",
    },
  );
  await done.catch(() => {});
  return grid.cleanup;
}

/** Make a share link (password, expiry, downloads) and show it to copy. */
export function shareDialog(target, name) {
  const password = h("input", {
    id: "share-password",
    type: "password",
    autocomplete: "new-password",
    maxlength: "200",
  });
  const expires = h("input", { id: "share-expires", type: "date" });
  const allow = h("input", { id: "share-download", type: "checkbox" });
  // an album's visitors may see where its photos were taken: off unless the owner says so
  const showMap = target.album_id ? h("input", { id: "share-map", type: "checkbox" }) : null;
  const result = h("div", { class: "share-result", "aria-live": "polite" });
  const error = h("p", { class: "error", role: "alert" });
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": "share-title" },
    h("h2", { id: "share-title" }, `Share “${name}”`),
    h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          const body = { ...target, allow_download: allow.checked };
          if (showMap) body.show_map = showMap.checked;
          if (password.value) body.password = password.value;
          if (expires.value) body.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
          error.textContent = "";
          try {
            const link = await api("/api/v1/shares", { method: "POST", json: body });
            const url = new URL(link.url, location.origin).href;
            const field = h("input", { id: "share-url", type: "text", readonly: true, value: url });
            result.replaceChildren(
              h("label", { for: "share-url" }, "Anyone with this link can see it"),
              field,
              h(
                "button",
                {
                  type: "button",
                  onclick: async () => {
                    try {
                      await navigator.clipboard.writeText(url);
                      toast("Link copied");
                    } catch {
                      field.select();
                    }
                  },
                },
                "Copy link",
              ),
            );
            field.select();
          } catch (err) {
            error.textContent = err.message; // in the dialog, where the person is looking
            result.replaceChildren();
          }
        },
      },
      h("label", { for: "share-password" }, "Password (optional)"),
      password,
      h("label", { for: "share-expires" }, "Expires (optional)"),
      expires,
      h("div", { class: "check-row" }, allow, h("label", { for: "share-download" }, "Allow downloading originals")),
      showMap
        ? h(
            "div",
            { class: "check-row" },
            showMap,
            h("label", { for: "share-map" }, "Show where the photos were taken, on a map"),
          )
        : null,
      error,
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Close"),
        h("button", { type: "submit", class: "primary" }, "Create link"),
      ),
    ),
    result,
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
