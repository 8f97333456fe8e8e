// The hub's JSON API: the bearer token of this tab's session, errors as ApiError.

const KEY = "switchboard.session";

/** The signed-in user and token, kept across reloads of this browser. */
export const session = {
  read() {
    try {
      return JSON.parse(localStorage.getItem(KEY) || "null");
    } catch {
      return null;
    }
  },
  save(token, user) {
    localStorage.setItem(KEY, JSON.stringify({ token, user }));
  },
  clear() {
    localStorage.removeItem(KEY);
  },
  get token() {
    return this.read()?.token || null;
  },
};

/** An answer of the API that was not a success. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `The hub answered ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Sends `file` as the body of a POST with its own content type; answers the JSON the hub
 * returns (a 202 included). */
export async function upload(path, file, contentType) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { Accept: "application/json", Authorization: `Bearer ${session.token}`, "Content-Type": contentType },
      body: file,
    });
  } catch {
    throw new ApiError(0, "network", "The hub cannot be reached. Check your connection.");
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  throw new ApiError(response.status, data?.error?.code, data?.error?.message);
}

/** Calls the API; a 401 on a signed-in call ends the session (the page returns to sign-in). */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The hub cannot be reached. Check your connection.");
  }
  if (response.status === 204 || response.status === 202) return null;
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const error = new ApiError(response.status, data?.error?.code, data?.error?.message);
  if (response.status === 401 && token && !path.startsWith("/api/auth/login")) {
    session.clear();
    window.dispatchEvent(new CustomEvent("session-ended", {
      detail: "Your session has ended. Please sign in again.",
    }));
  }
  throw error;
}
