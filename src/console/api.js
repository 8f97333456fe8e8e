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

/** An answer of the API that was not a success; `retryAfter` is the seconds the hub asked to
 * wait (a 429's or 503's Retry-After), or null. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message || `The hub answered ${status}`);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Calls the API with a body already encoded as `contentType`; answers the status and the JSON
 * (null without one). A 401 on a signed-in call ends the session (the page returns to
 * sign-in). */
async function send(method, path, body, contentType) {
  const headers = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (contentType) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError(0, "network", "The hub cannot be reached. Check your connection.");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return { status: response.status, data };
  const wait = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  const error = new ApiError(response.status, data?.error?.code, data?.error?.message,
    Number.isFinite(wait) ? wait : null);
  if (response.status === 401 && token && !path.startsWith("/api/auth/login")) {
    session.clear();
    window.dispatchEvent(new CustomEvent("session-ended", {
      detail: "Your session has ended. Please sign in again.",
    }));
  }
  throw error;
}

/** Calls the API with a JSON body (if any); answers the JSON, or null for 202 and 204. */
export async function api(method, path, body) {
  const json = body === undefined ? undefined : JSON.stringify(body);
  const answer = await send(method, path, json, json === undefined ? undefined : "application/json");
  return answer.status === 202 ? null : answer.data;
}

/** Sends `file` as the body of a POST with its own content type; answers the JSON the hub
 * returns (a 202's included). */
export async function upload(path, file, contentType) {
  return (await send("POST", path, file, contentType)).data;
}
