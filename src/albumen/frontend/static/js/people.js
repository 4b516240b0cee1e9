// People (faces grouped by the models): name, hide, merge; a person's photos; and the
// duplicates review.

import { api, thumbUrl } from "./api.js";
import { bytes, h, toast } from "./dom.js";
import { pagedGrid } from "./lists.js";
import { openViewer } from "./viewer.js";

export async function peoplePage(main, params, navigate) {
  const showHidden = params.get("hidden") === "true";
  const people = await api("/api/v1/people", { query: { hidden: showHidden } });
  const chosen = new Set();
  const merge = h(
    "button",
    {
      type: "button",
      disabled: true,
      onclick: async () => {
        const [into, ...others] = [...chosen];
        try {
          await api(`/api/v1/people/${into}/merge`, { method: "POST", json: { ids: others } });
          toast(`Merged ${others.length + 1} people`);
          navigate(location.pathname + location.search, { replace: true });
        } catch (err) {
          toast(err.message, "error");
        }
      },
    },
    "Merge selected",
  );
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "People"),
      h(
        "div",
        { class: "tools" },
        merge,
        h(
          "a",
          { class: "button", href: showHidden ? "/people" : "/people?hidden=true" },
          showHidden ? "Show people" : "Show hidden",
        ),
      ),
    ),
  );
  if (!people.length) {
    main.append(h("p", { class: "empty" }, "No faces found yet. They appear as your photos are analysed."));
    return () => {};
  }
  main.append(
    h(
      "ul",
      { class: "cards people" },
      people.map((person) => {
        const label = person.name || "Unnamed";
        const box = h("input", {
          type: "checkbox",
          id: `pick-${person.id}`,
          onchange: () => {
            box.checked ? chosen.add(person.id) : chosen.delete(person.id);
            merge.disabled = chosen.size < 2;
          },
        });
        return h(
          "li",
          { class: "card person" },
          h(
            "a",
            { href: `/people/${person.id}` },
            person.cover_face_id
              ? h("img", { src: `/api/v1/faces/${person.cover_face_id}/thumbnail`, alt: "", loading: "lazy" })
              : h("span", { class: "no-cover" }, "☺"),
            h("span", { class: "card-title" }, label),
            h("span", { class: "card-meta" }, `${person.photo_count} photo${person.photo_count === 1 ? "" : "s"}`),
          ),
          h("div", { class: "check-row" }, box, h("label", { for: `pick-${person.id}` }, `Select ${label}`)),
        );
      }),
    ),
  );
  return () => {};
}

export async function personPage(main, _params, navigate, { id }) {
  const person = await api(`/api/v1/people/${id}`);
  const name = h("input", {
    id: "person-name",
    type: "text",
    maxlength: "200",
    value: person.name || "",
    placeholder: "Add a name",
  });
  main.append(
    h(
      "nav",
      { class: "breadcrumbs", "aria-label": "Breadcrumbs" },
      h(
        "ol",
        {},
        h("li", {}, h("a", { href: "/people" }, "People")),
        h("li", { "aria-current": "page" }, person.name || "Unnamed"),
      ),
    ),
    h(
      "form",
      {
        class: "inline",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api(`/api/v1/people/${id}`, { method: "PATCH", json: { name: name.value.trim() || null } });
            toast("Saved");
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      h("label", { for: "person-name" }, "Name"),
      name,
      h("button", { type: "submit", class: "primary" }, "Save"),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              await api(`/api/v1/people/${id}`, { method: "PATCH", json: { hidden: !person.hidden } });
              navigate("/people");
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        person.hidden ? "Show again" : "Hide",
      ),
    ),
  );
  main.append(h("h1", { class: "visually-hidden" }, person.name || "Unnamed person"));
  const { grid, done } = pagedGrid(
    main,
    (cursor) => api(`/api/v1/people/${id}/photos`, { query: { cursor, limit: 200 } }),
    {
      actions: ["album", "favorite", "download"],
      label: `Photos of ${person.name || "this person"}`,
    },
  );
  await done.catch(() => {});
  return grid.cleanup;
}

export async function duplicatesPage(main) {
  main.append(
    h("h1", {}, "Duplicates"),
    h(
      "p",
      { class: "muted" },
      "Copies and near-copies of the same picture. The suggested keeper is the largest, in its original format, with the most metadata.",
    ),
  );
  const groups = await api("/api/v1/duplicates");
  if (!groups.length) {
    main.append(h("p", { class: "empty" }, "No duplicates found."));
    return () => {};
  }
  const list = h("ol", { class: "duplicates" });
  for (const group of groups) {
    const others = group.photos.filter((p) => p.id !== group.keeper_id).map((p) => p.id);
    const item = h(
      "li",
      { class: "duplicate-group" },
      h(
        "ul",
        { class: "duplicate-photos" },
        group.photos.map((photo) =>
          h(
            "li",
            { class: photo.id === group.keeper_id ? "keeper" : "" },
            h(
              "button",
              {
                type: "button",
                class: "plain",
                "aria-label": `Open ${photo.filename}`,
                onclick: () => openViewer(photo, { photos: () => group.photos }),
              },
              h("img", { src: thumbUrl(photo), alt: "", loading: "lazy" }),
            ),
            h(
              "span",
              {},
              `${photo.filename} · ${bytes(photo.size)}${photo.width ? ` · ${photo.width}×${photo.height}` : ""}`,
            ),
            photo.id === group.keeper_id ? h("strong", {}, "Suggested keeper") : null,
          ),
        ),
      ),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              await api("/api/v1/photos/trash", { method: "POST", json: { ids: others } });
              item.remove();
              toast(`Moved ${others.length} to the trash`);
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        `Keep one, trash ${others.length}`,
      ),
    );
    list.append(item);
  }
  main.append(list);
  return () => {};
}
