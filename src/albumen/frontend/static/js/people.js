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
          await mergeWithUndo(into, others, navigate);
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
  const title = h("h1", {}, person.name || "Unnamed");
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
    // the page's title: a person had only a field, and no heading to find the page by
    title,
    h(
      "form",
      {
        class: "inline",
        onsubmit: async (event) => {
          event.preventDefault();
          const wanted = name.value.trim();
          try {
            // a second "Anna" made two people of that name: offer to make them one
            const everyone = await api("/api/v1/people", { query: { hidden: true } });
            const same = everyone.find((p) => p.id !== id && p.name && p.name.toLowerCase() === wanted.toLowerCase());
            if (wanted && same && (await sameNameDialog(same))) {
              await mergeWithUndo(same.id, [id], navigate, `/people/${same.id}`);
              return;
            }
            await api(`/api/v1/people/${id}`, { method: "PATCH", json: { name: wanted || null } });
            title.textContent = wanted || "Unnamed";
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
  main.append(facesSection(person));
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

/** Every face of the people (all pages): what an undo of a merge puts back. */
async function facesOf(personId) {
  const found = [];
  let cursor = null;
  do {
    const page = await api(`/api/v1/people/${personId}/faces`, { query: { cursor, limit: 500 } });
    found.push(...page.items.map((face) => face.id));
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

/** Fold ``others`` into ``into``; the toast offers to undo it (each folded person comes back
 * with their faces, name and hidden state, as a person of their own). */
async function mergeWithUndo(into, others, navigate, after = location.pathname + location.search) {
  const before = await Promise.all(
    others.map(async (other) => ({ person: await api(`/api/v1/people/${other}`), faces: await facesOf(other) })),
  );
  await api(`/api/v1/people/${into}/merge`, { method: "POST", json: { ids: others } });
  navigate(after, { replace: true });
  const undo = async () => {
    try {
      for (const { person, faces } of before) {
        if (!faces.length) continue;
        const [first, ...rest] = faces;
        const split = await api(`/api/v1/faces/${first}`, { method: "PATCH", json: { person_id: null } });
        for (const face of rest) {
          await api(`/api/v1/faces/${face}`, { method: "PATCH", json: { person_id: split.person_id } });
        }
        await api(`/api/v1/people/${split.person_id}`, {
          method: "PATCH",
          json: { name: person.name || "", hidden: person.hidden },
        });
      }
      toast("Merge undone");
      navigate(location.pathname + location.search, { replace: true });
    } catch (err) {
      toast(err.message, "error");
    }
  };
  toast(`Merged ${others.length + 1} people`, "info", { label: "Undo", run: undo });
}

/** Whether the person means the one already called that (true: merge them). */
function sameNameDialog(same) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "same-name-title" },
      h("h2", { id: "same-name-title" }, `You already have “${same.name}”`),
      h(
        "p",
        {},
        `${same.name} is in ${same.photo_count} photo${same.photo_count === 1 ? "" : "s"}. If this is the same person, merge them into one; otherwise both keep the name.`,
      ),
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close("apart") }, "Keep apart"),
        h("button", { type: "button", class: "primary", onclick: () => dialog.close("merge") }, "Merge them"),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "merge");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** The person's faces, each with a way out for one the models put here wrongly. */
function facesSection(person) {
  const name = person.name || "this person";
  const list = h("ul", { class: "faces" });
  const more = h("button", { type: "button", hidden: true }, "More faces");
  let cursor = null;
  const load = async () => {
    const page = await api(`/api/v1/people/${person.id}/faces`, { query: { cursor, limit: 60 } });
    cursor = page.next_cursor;
    more.hidden = !cursor;
    for (const face of page.items) list.append(faceItem(face));
  };
  const faceItem = (face) => {
    const item = h(
      "li",
      {},
      h("img", { src: `/api/v1/faces/${face.id}/thumbnail`, alt: `A face of ${name}`, loading: "lazy" }),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              await api(`/api/v1/faces/${face.id}`, { method: "PATCH", json: { person_id: null } });
              item.remove();
              toast("Moved out: the face is a person of its own now", "info", {
                label: "Undo",
                run: async () => {
                  await api(`/api/v1/faces/${face.id}`, { method: "PATCH", json: { person_id: person.id } });
                  list.prepend(faceItem(face));
                },
              });
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        `Not ${name}`,
      ),
    );
    return item;
  };
  more.addEventListener("click", () => load().catch((err) => toast(err.message, "error")));
  const section = h("details", { class: "person-faces" }, h("summary", {}, `Faces (${person.face_count})`), list, more);
  // asked for when opened: most visits are for the photos
  section.addEventListener("toggle", () => {
    if (section.open && !list.childElementCount) load().catch((err) => toast(err.message, "error"));
  });
  return section;
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
