// The JSON API, as the signed-in browser speaks it: the session cookie goes by itself, and every
// change carries the session's CSRF token.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export const session = { user: null, csrf: "" };

export function csrfHeaders() {
  return session.csrf ? { "X-CSRF-Token": session.csrf } : {};
}

/** fetch() a path of the API: JSON in and out, errors as ApiError with the API's code. */
export async function api(path, { method = "GET", json, body, headers = {}, query } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (Array.isArray(value)) {
      for (const v of value) url.searchParams.append(key, v);
    } else if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") Object.assign(init.headers, csrfHeaders());
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "offline", "The server cannot be reached. Check the connection.");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error || {};
    const failure = new ApiError(
      response.status,
      error.code || "error",
      error.message || `The server answered ${response.status}.`,
      data,
    );
    if (response.status === 401 && session.user && !path.startsWith("/s/")) {
      session.user = null;
      window.dispatchEvent(new CustomEvent("albumen:signed-out"));
    }
    throw failure;
  }
  return data;
}

export function thumbUrl(photo, size = "thumb", share = null) {
  // A share page's photos come with signed URLs an edge cache may keep: use them.
  const signed = share && typeof photo === "object" && (size === "thumb" ? photo.thumbnail_url : photo.preview_url);
  if (signed) return signed;
  const id = typeof photo === "string" ? photo : photo.id;
  const base = share ? `/s/${share}/photos/${id}` : `/api/v1/photos/${id}`;
  return `${base}/thumbnail${size === "thumb" ? "" : `?size=${size}`}`;
}

export function originalUrl(photo, share = null) {
  return share ? `/s/${share}/photos/${photo.id}/original` : `/api/v1/photos/${photo.id}/original`;
}
