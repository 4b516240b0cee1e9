// Sign-in with a user name and password.

import { api, session } from "./api.js";
import { h } from "./dom.js";

export async function loginPage(main, params, navigate) {
  const name = h("input", { id: "username", name: "username", type: "text", autocomplete: "username", required: true });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    {
      class: "panel narrow login",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        try {
          const answer = await api("/api/v1/session", {
            method: "POST",
            json: { username: name.value, password: password.value },
          });
          session.user = answer.user;
          session.csrf = answer.csrf_token;
          const next = params.get("next");
          navigate(next?.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
        } catch (err) {
          const known = {
            bad_credentials: "Wrong user name or password.",
            account_disabled: "This account is disabled. Ask an admin to enable it.",
          };
          error.textContent = known[err.code] || err.message;
          password.select();
        }
      },
    },
    h("h1", {}, "Sign in to Albumen"),
    h("label", { for: "username" }, "User name"),
    name,
    h("label", { for: "password" }, "Password"),
    password,
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "No password yet? An admin sets one on the Admin page, or with ",
      h("code", {}, "albumen users passwd NAME"),
      ".",
    ),
  );
  main.append(form);
  name.focus();
  return () => {};
}
