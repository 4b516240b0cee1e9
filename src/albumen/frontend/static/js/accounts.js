// The admin page's users: who has an account, what they keep here, and what an admin does to
// accounts (add, make admin, reset a password, disable or enable, delete with everything theirs).

import { api, session } from "./api.js";
import { bytes, h, toast } from "./dom.js";

/** A modal form of one field and a confirming button; its value, or null when cancelled. */
function ask({ title, text = "", label, type = "text", action, danger = false, autocomplete = "off" }) {
  return new Promise((resolve) => {
    const input = h("input", { id: "ask-field", type, required: true, autocomplete });
    if (type === "password") input.minLength = 8;
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "ask-title" },
      h(
        "form",
        {
          method: "dialog",
          onsubmit: (event) => {
            event.preventDefault();
            dialog.close(input.value);
          },
        },
        h("h2", { id: "ask-title" }, title),
        text ? h("p", {}, text) : "",
        h("label", { for: "ask-field" }, label),
        input,
        h(
          "div",
          { class: "buttons" },
          h("button", { type: "button", onclick: () => dialog.close("") }, "Cancel"),
          h("button", { type: "submit", class: danger ? "danger" : "primary" }, action),
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

function photosText(n) {
  return n === 1 ? "1 photo" : `${n.toLocaleString()} photos`;
}

/** The users section; it draws itself again after each change (not on the page's timer). */
export function accountsSection() {
  const section = h("section", { class: "accounts", "aria-labelledby": "users-h" });
  const change = async (run, done) => {
    try {
      await run();
      if (done) toast(done);
    } catch (err) {
      toast(err.message, "error");
    }
    await draw();
  };
  const patch = (user, json) => api(`/api/v1/admin/users/${user.id}`, { method: "PATCH", json });

  function actions(user) {
    if (user.id === session.user?.id) return h("span", { class: "muted" }, "you");
    return h(
      "div",
      { class: "row-actions" },
      h(
        "button",
        {
          type: "button",
          onclick: () =>
            change(
              () => patch(user, { admin: !user.is_admin }),
              user.is_admin ? `${user.name} is no longer an admin` : `${user.name} is an admin`,
            ),
        },
        user.is_admin ? `Remove admin` : "Make admin",
        h("span", { class: "visually-hidden" }, ` (${user.name})`),
      ),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            const password = await ask({
              title: `A new password for ${user.name}`,
              text: "They are signed out everywhere; tell them the new one.",
              label: "New password (8 characters or more)",
              type: "password",
              autocomplete: "new-password",
              action: "Set password",
            });
            if (password) await change(() => patch(user, { password }), `${user.name} has a new password`);
          },
        },
        "Reset password",
        h("span", { class: "visually-hidden" }, ` (${user.name})`),
      ),
      h(
        "button",
        {
          type: "button",
          onclick: () =>
            change(
              () => patch(user, { disabled: !user.disabled }),
              user.disabled ? `${user.name} can sign in again` : `${user.name} is disabled`,
            ),
        },
        user.disabled ? "Enable" : "Disable",
        h("span", { class: "visually-hidden" }, ` (${user.name})`),
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: async () => {
            const typed = await ask({
              title: `Delete ${user.name}?`,
              text:
                `Their ${photosText(user.photos)} (${bytes(user.bytes)}), albums, people and share links ` +
                "are deleted for good, and their photos leave the albums of others. Their keys stop working. " +
                "To keep their photos, disable the account instead.",
              label: `Type ${user.name} to confirm`,
              action: "Delete for good",
              danger: true,
            });
            if (typed === null) return;
            await change(async () => {
              const gone = await api(`/api/v1/admin/users/${user.id}`, {
                method: "DELETE",
                query: { confirm: typed },
              });
              toast(`${gone.name} and their ${photosText(gone.photos)} were deleted`);
            });
          },
        },
        "Delete",
        h("span", { class: "visually-hidden" }, ` (${user.name})`),
      ),
    );
  }

  const name = h("input", { id: "new-user-name", required: true, maxlength: "200", autocomplete: "off" });
  const password = h("input", {
    id: "new-user-password",
    type: "password",
    minlength: "8",
    autocomplete: "new-password",
  });
  const admin = h("input", { id: "new-user-admin", type: "checkbox" });
  const form = h(
    "form",
    {
      class: "add-user",
      onsubmit: (event) => {
        event.preventDefault();
        const json = { name: name.value.trim(), admin: admin.checked };
        if (password.value) json.password = password.value;
        change(async () => {
          await api("/api/v1/admin/users", { method: "POST", json });
          form.reset();
        }, `${json.name} can sign in`);
      },
    },
    h("h3", {}, "Add a user"),
    h("label", { for: "new-user-name" }, "User name"),
    name,
    h("label", { for: "new-user-password" }, "Password (8 characters or more)"),
    password,
    h("div", { class: "check-row" }, admin, h("label", { for: "new-user-admin" }, "Admin")),
    h("button", { type: "submit", class: "primary" }, "Add user"),
  );

  async function draw() {
    const users = await api("/api/v1/admin/users");
    section.replaceChildren(
      h("h2", { id: "users-h" }, "Users"),
      h(
        "table",
        { class: "users" },
        h("caption", { class: "visually-hidden" }, "Users"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Name", "Role", "Photos", "Storage", "Status", "Actions"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          users.map((user) =>
            h(
              "tr",
              { dataset: { user: user.name } },
              h("th", { scope: "row" }, user.name),
              h("td", {}, user.is_admin ? "Admin" : "User"),
              h("td", {}, user.photos.toLocaleString()),
              h("td", {}, bytes(user.bytes)),
              h("td", {}, user.disabled ? "Disabled" : user.has_password ? "Active" : "Keys only"),
              h("td", {}, actions(user)),
            ),
          ),
        ),
      ),
      form,
    );
  }
  draw().catch((err) => toast(err.message, "error"));
  return section;
}
