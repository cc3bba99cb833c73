// The gateway as the page sees it: where /graphql is, the token the user signed in with, and queries over HTTP.

const TOKEN_KEY = "lotgraph.token";

// /graphql on the page's own origin, relative to the page (so a reverse proxy may mount lotgraph under a prefix).
export const httpUrl = new URL("../graphql", window.location.href).href;
export const wsUrl = httpUrl.replace(/^http/, "ws");

export const token = {
  get() {
    return window.sessionStorage.getItem(TOKEN_KEY) ?? "";
  },
  set(value) {
    const trimmed = value.trim();
    if (trimmed) window.sessionStorage.setItem(TOKEN_KEY, trimmed);
    else window.sessionStorage.removeItem(TOKEN_KEY);
  },
  // Authorization header value, or null when signed out (the gateway then decides: today, anonymous).
  authorization() {
    const value = this.get();
    return value ? `Bearer ${value}` : null;
  },
};

// The connection_init payload of graphql-transport-ws: the same credentials as on HTTP.
export function connectionParams() {
  const authorization = token.authorization();
  return authorization ? { Authorization: authorization } : {};
}

export class RequestError extends Error {
  constructor(message, { status = 0, refused = false, errors = [] } = {}) {
    super(message);
    this.status = status;
    this.refused = refused;
    this.errors = errors;
  }
}

// Run a query; resolve to {data, errors} (partial answers keep their data), reject with RequestError when there is
// no answer at all. `refused` is set on 401/403 so the page can ask the user to sign in.
export async function query(document, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const authorization = token.authorization();
  if (authorization) headers.Authorization = authorization;
  let response;
  try {
    response = await fetch(httpUrl, { method: "POST", headers, body: JSON.stringify({ query: document, variables }) });
  } catch (err) {
    throw new RequestError(`the gateway cannot be reached (${err.message})`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new RequestError("the gateway refused the token", { status: response.status, refused: true });
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new RequestError(`the gateway answered ${response.status} without a GraphQL result`, {
      status: response.status,
    });
  }
  if (!body.data && body.errors?.length) {
    const refused = body.errors.some((e) => ["UNAUTHENTICATED", "FORBIDDEN"].includes(e.extensions?.code));
    throw new RequestError(describeErrors(body.errors), { status: response.status, refused, errors: body.errors });
  }
  return { data: body.data ?? {}, errors: body.errors ?? [] };
}

// One line for people: each error's code (and source) and message.
export function describeErrors(errors) {
  return (errors ?? [])
    .map((e) => {
      const code = e.extensions?.code;
      const source = e.extensions?.source;
      const prefix = code ? `${code}${source ? ` (${source})` : ""}: ` : "";
      return `${prefix}${e.message}`;
    })
    .join("; ");
}
