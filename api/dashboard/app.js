// The operations dashboard: active holds, a readiness board, recent events and headline figures, kept live over
// graphql-transport-ws subscriptions that resume after the last cursor seen when the connection comes back.

import * as C from "./charts.js";
import { connectionParams, describeErrors, query, token, wsUrl } from "./graphql.js";
import * as Q from "./queries.js";
import { Connection } from "./ws.js";

const MAX_EVENTS = 100;
const MAX_WATCH = 100;
const DEFAULT_WATCH = 12;
const WATCH_KEY = "lotgraph.watch";
const BUSINESS_DEBOUNCE_MS = 2000; // events come in bursts (a hold brings a disposition and a stock change)
const BUSINESS_REFRESH_MS = 60_000; // and the day rolls over, and ages grow, without events

const $ = (id) => document.getElementById(id);

const state = {
  holds: new Map(), // hold id -> hold (as Q.hold() returns it)
  released: new Set(), // hold ids seen released: a late snapshot must not bring them back
  holdsTotal: null, // active holds in the QMS when the snapshot was read, if it held more than the page
  lots: new Map(), // lot id -> {product, stock}
  readiness: new Map(), // shipment id -> readiness
  watch: [],
  events: [],
  seenEvents: new Set(),
  cursors: { holds: null, stream: null },
  everOpen: false,
  dropped: false,
};

let connection;
const unsubscribe = {}; // subscription name -> function that ends it
const resubscribe = {}; // subscription name -> function that starts it again (after sign-in)

// ---------------------------------------------------------------------------------------------- formatting

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function age(since, now = Date.now()) {
  if (!since) return "–";
  let seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (days) return `${days} d ${hours} h`;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${seconds} s`;
  return `${seconds} s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function when(iso, format = dateTime) {
  return iso ? format.format(new Date(iso)) : "–";
}

function humanCode(code) {
  return code ? code.toLowerCase().replaceAll("_", " ") : "";
}

// ---------------------------------------------------------------------------------------------- banner and link

function setLink(stateName, text) {
  $("link").dataset.state = stateName;
  $("link-text").textContent = text;
}

function showBanner(kind, text) {
  const banner = $("banner");
  banner.dataset.kind = kind;
  banner.textContent = text;
  banner.hidden = false;
  clearTimeout(showBanner.timer);
  if (kind === "ok") showBanner.timer = setTimeout(() => (banner.hidden = true), 6000);
}

function hideBanner() {
  $("banner").hidden = true;
}

function onLinkState(name, detail) {
  if (name === "connecting") {
    setLink("connecting", state.everOpen ? "Reconnecting…" : "Connecting…");
  } else if (name === "open") {
    setLink("open", "Live");
    document.body.classList.remove("stale");
    if (state.dropped) {
      state.dropped = false;
      showBanner("ok", `Reconnected at ${clock.format(new Date())}: caught up on the events missed meanwhile.`);
    } else {
      hideBanner();
    }
    state.everOpen = true;
  } else if (name === "retrying") {
    state.dropped = true;
    document.body.classList.add("stale");
    const seconds = Math.max(1, Math.round(detail.delay / 1000));
    setLink("down", "Offline");
    showBanner(
      "down",
      `Connection to the gateway lost: ${detail.reason}. Reconnecting in ${seconds} s (attempt ${detail.attempt}); ` +
        "what is shown may be out of date.",
    );
  } else if (name === "refused") {
    state.dropped = true;
    document.body.classList.add("stale");
    setLink("down", "Signed out");
    showBanner("down", `The gateway refused the connection (${detail.reason}). Sign in with a valid token.`);
    openSignIn(`The gateway refused the token: ${detail.reason}.`);
  }
}

const AUTH_CODES = new Set(["UNAUTHENTICATED", "FORBIDDEN"]);
const CURSOR_CODES = new Set(["INVALID_CURSOR", "CURSOR_EXPIRED"]);
const RESUBSCRIBE_MS = 5000;

// Errors of a subscription: a refused token opens the sign-in, anything else is shown. True when the caller should
// subscribe again (later).
function subscriptionProblem(what, errors) {
  const text = describeErrors(errors);
  if (errors.some((e) => AUTH_CODES.has(e.extensions?.code))) {
    openSignIn(`${what}: ${text}`);
    return false;
  }
  showBanner("warn", `${what}: ${text}`);
  return true;
}

function requestProblem(what, err) {
  if (err.refused) openSignIn(`${what}: ${err.message}`);
  else showBanner("warn", `${what}: ${err.message}`);
}

// ---------------------------------------------------------------------------------------------- sign-in

function openSignIn(reason) {
  const dialog = $("signin");
  $("signin-reason").hidden = !reason;
  $("signin-reason").textContent = reason ?? "";
  $("token").value = token.get();
  if (!dialog.open) dialog.showModal();
}

function renderWho() {
  const signedIn = Boolean(token.get());
  $("who").textContent = signedIn ? "Signed in with a token" : "Not signed in";
  $("signin-open").textContent = signedIn ? "Change token" : "Sign in";
  $("signout").hidden = !signedIn;
}

function setupSignIn() {
  $("signin-open").addEventListener("click", () => openSignIn(null));
  $("signin").addEventListener("close", () => {
    const choice = $("signin").returnValue;
    if (choice !== "save" && choice !== "signout") return;
    token.set(choice === "save" ? $("token").value : "");
    renderWho();
    restart();
  });
  takeTokenFromLink();
  window.addEventListener("hashchange", () => {
    if (takeTokenFromLink()) restart();
  });
  renderWho();
}

// A link such as /dashboard/#token=… signs in (the fragment never reaches a server); the token then leaves the
// address bar and the history at once.
function takeTokenFromLink() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  if (!fragment.has("token")) return false;
  token.set(fragment.get("token"));
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  renderWho();
  return true;
}

// ---------------------------------------------------------------------------------------------- holds

function lotInfo(lotId) {
  return state.lots.get(lotId) ?? null;
}

function addHold(hold) {
  if (state.released.has(hold.id) || hold.status !== "ACTIVE") return false;
  const fresh = !state.holds.has(hold.id);
  state.holds.set(hold.id, hold);
  return fresh;
}

function removeHold(holdId) {
  state.released.add(holdId);
  return state.holds.delete(holdId);
}

function holdRow(hold, fresh) {
  const info = lotInfo(hold.lotId);
  const product = info?.product ? info.product.name : info ? "–" : "…";
  const reason = el("td", {}, el("span", { class: "reason", text: humanCode(hold.reasonCode) }));
  if (hold.comment) reason.append(el("span", { class: "comment", text: hold.comment }));
  return el(
    "tr",
    { "data-hold-id": hold.id, "data-lot-id": hold.lotId, class: fresh ? "fresh" : null },
    el("th", { scope: "row", class: "mono", text: hold.lotId }),
    el("td", { class: "product", text: product, title: info?.product?.id ?? null }),
    reason,
    el("td", { text: hold.placedBy ?? "–" }),
    el("td", { class: "since", text: when(hold.placedAt), title: hold.placedAt ?? null }),
    el("td", { class: "num age", "data-since": hold.placedAt ?? "", text: age(hold.placedAt) }),
  );
}

function renderHolds(freshIds = new Set()) {
  const holds = [...state.holds.values()].sort(
    (a, b) => (b.placedAt ?? "").localeCompare(a.placedAt ?? "") || b.id.localeCompare(a.id),
  );
  $("holds-body").replaceChildren(...holds.map((h) => holdRow(h, freshIds.has(h.id))));
  $("holds-empty").hidden = holds.length > 0;
  const total = state.holdsTotal;
  $("holds-note").textContent =
    total !== null && total > holds.length ? `The newest ${holds.length} of ${total} shown.` : "";
  renderFigures();
}

async function loadHolds() {
  const holds = [];
  let after = null;
  let total = 0;
  for (let page = 0; page < 4; page += 1) {
    const { data, errors } = await query(Q.ACTIVE_HOLDS, { after });
    const connection = data.holds;
    if (!connection) throw Object.assign(new Error(describeErrors(errors)), { errors });
    total = connection.totalCount;
    holds.push(...connection.edges.map((e) => e.node));
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  for (const hold of holds) addHold(hold);
  state.holdsTotal = total > holds.length ? total : null;
  needLots(holds.map((h) => h.lotId).filter((id) => !state.lots.has(id)));
  renderHolds();
}

// Product and stock of the lots on hold, read in batches of up to 500 (asked apart from the holds so that each query
// stays far below the gateway's cost limit).
const pendingLots = new Set();
let lotTimer = null;

function needLots(lotIds) {
  for (const id of lotIds) pendingLots.add(id);
  clearTimeout(lotTimer);
  lotTimer = setTimeout(loadLots, 50);
}

async function loadLots() {
  const ids = [...pendingLots].slice(0, 500);
  for (const id of ids) pendingLots.delete(id);
  if (!ids.length) return;
  try {
    const { data } = await query(Q.LOTS, { ids });
    for (const edge of data.lots?.edges ?? []) {
      state.lots.set(edge.node.id, { product: edge.node.product, stock: edge.node.stock });
    }
  } catch (err) {
    requestProblem("Lots", err);
  }
  renderHolds();
  if (pendingLots.size) needLots([]);
}

function onHoldEvent(event) {
  const fresh = new Set();
  if (event.type === "HoldPlaced" && event.hold) {
    if (addHold(event.hold)) fresh.add(event.hold.id);
    if (!state.lots.has(event.hold.lotId)) needLots([event.hold.lotId]);
  } else if (event.type === "HoldReleased" && event.hold) {
    removeHold(event.hold.id);
    needLots([event.hold.lotId]);
  }
  renderHolds(fresh);
}

// ---------------------------------------------------------------------------------------------- readiness

function statusBadge(status) {
  return el("span", { class: `badge status-${(status ?? "unknown").toLowerCase()}`, text: humanCode(status) });
}

function readinessRow(shipmentId, readiness, fresh) {
  const blockers = el("ul", { class: "blockers" });
  for (const b of readiness?.blockers ?? []) {
    const about = [b.lotId && `lot ${b.lotId}`, b.orderId && `order ${b.orderId}`].filter(Boolean).join(", ");
    blockers.append(
      el(
        "li",
        { "data-code": b.code, title: b.message },
        el("span", { class: "code", text: b.code }),
        el("span", { class: "detail", text: ` ${b.source}${about ? ` · ${about}` : ""}` }),
      ),
    );
  }
  const status = readiness?.status ?? "LOADING";
  return el(
    "tr",
    { "data-shipment-id": shipmentId, "data-status": status, class: fresh ? "fresh" : null },
    el("th", { scope: "row", class: "mono", text: shipmentId }),
    el("td", {}, readiness ? statusBadge(status) : el("span", { class: "badge", text: "…" })),
    el("td", {}, blockers.childElementCount ? blockers : el("span", { class: "none", text: "none" })),
  );
}

function renderReadiness(freshIds = new Set()) {
  $("readiness-body").replaceChildren(
    ...state.watch.map((id) => readinessRow(id, state.readiness.get(id), freshIds.has(id))),
  );
  $("readiness-empty").hidden = state.watch.length > 0;
  renderFigures();
}

function onReadiness(readiness) {
  const before = state.readiness.get(readiness.shipmentId);
  state.readiness.set(readiness.shipmentId, readiness);
  const changed = !before || before.status !== readiness.status;
  renderReadiness(changed ? new Set([readiness.shipmentId]) : new Set());
}

function parseWatch(text) {
  const ids = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return [...new Set(ids)].slice(0, MAX_WATCH);
}

async function chooseWatch() {
  const fromUrl = new URLSearchParams(window.location.search).get("shipments");
  if (fromUrl !== null) return parseWatch(fromUrl);
  const saved = window.localStorage.getItem(WATCH_KEY);
  if (saved) return parseWatch(saved);
  try {
    const { data } = await query(Q.OPEN_SHIPMENTS, { first: DEFAULT_WATCH });
    return (data.shipments?.edges ?? []).map((e) => e.node.id);
  } catch (err) {
    requestProblem("Shipments", err);
    return [];
  }
}

function setWatch(ids) {
  state.watch = ids;
  $("watch").value = ids.join(", ");
  for (const id of [...state.readiness.keys()]) if (!ids.includes(id)) state.readiness.delete(id);
  renderReadiness();
  subscribeReadiness();
}

function setupWatchForm() {
  $("watch-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    let ids = parseWatch($("watch").value);
    const params = new URLSearchParams(window.location.search);
    if (ids.length) {
      window.localStorage.setItem(WATCH_KEY, ids.join(","));
      params.set("shipments", ids.join(","));
    } else {
      window.localStorage.removeItem(WATCH_KEY);
      params.delete("shipments");
    }
    const search = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (search ? `?${search}` : ""));
    if (!ids.length) ids = await chooseWatch();
    setWatch(ids);
  });
}

// ---------------------------------------------------------------------------------------------- events

// The business keys of an event, at most three (each kept on one line), and how many more.
function concerns(event) {
  const keys = [
    ...(event.lotIds ?? []).map((id) => `lot ${id}`),
    ...(event.shipmentIds ?? []).map((id) => `shipment ${id}`),
    ...(event.orderIds ?? []).map((id) => `order ${id}`),
  ];
  const cell = el("td", { class: "concerns", title: keys.join(", ") || null });
  keys.slice(0, 3).forEach((key, i) => cell.append(i ? ", " : "", el("span", { class: "key", text: key })));
  if (keys.length > 3) cell.append(` +${keys.length - 3}`);
  return cell;
}

function eventRow(event, fresh) {
  return el(
    "tr",
    { "data-event-id": event.id, "data-type": event.type, class: fresh ? "fresh" : null },
    el("td", { class: "time", text: when(event.occurredAt, clock), title: event.occurredAt }),
    el("th", { scope: "row", class: "type", text: event.type }),
    el("td", { class: `source source-${event.source}`, text: event.source }),
    concerns(event),
    el("td", { class: "mono cid", text: event.correlationId ?? "–", title: event.correlationId ?? null }),
  );
}

function onStreamEvent(event, fresh = true) {
  if (state.seenEvents.has(event.id)) return;
  state.seenEvents.add(event.id);
  state.events.unshift(event);
  for (const old of state.events.splice(MAX_EVENTS)) state.seenEvents.delete(old.id);
  const body = $("events-body");
  body.prepend(eventRow(event, fresh));
  while (body.childElementCount > MAX_EVENTS) body.lastElementChild.remove();
  $("events-empty").hidden = true;
  if (fresh) businessChanged();
  if (event.type === "StockStatusChanged") {
    const held = (event.lotIds ?? []).filter((id) => [...state.holds.values()].some((h) => h.lotId === id));
    if (held.length) needLots(held);
  }
}

// The last MAX_EVENTS events of the log, shown at once (after a reload too), and the event subscription's cursor set
// to the newest of them ("" for an empty log), so it goes on from there: nothing missed, nothing twice. When the log
// cannot be read (not signed in yet), the list stays as it is and the subscription sends live events.
async function backfillEvents() {
  let recent;
  try {
    recent = (await query(Q.RECENT_EVENTS, { last: MAX_EVENTS })).data?.recentEvents;
  } catch {
    return;
  }
  if (!Array.isArray(recent)) return;
  state.events = [];
  state.seenEvents.clear();
  $("events-body").replaceChildren();
  for (const raw of recent) onStreamEvent(Q.event(raw), false);
  $("events-empty").hidden = recent.length > 0;
  state.cursors.stream = recent.length ? recent[recent.length - 1].cursor : "";
}

// ---------------------------------------------------------------------------------------------- figures

function renderFigures() {
  const holds = [...state.holds.values()];
  $("fig-holds").textContent = String(state.holdsTotal ?? holds.length);

  const blocked = new Map();
  const heldLots = new Set(holds.map((h) => h.lotId));
  for (const lotId of heldLots) {
    for (const s of lotInfo(lotId)?.stock ?? []) {
      if (s.status === "BLOCKED") blocked.set(s.uom, (blocked.get(s.uom) ?? 0) + s.quantity);
    }
  }
  $("fig-blocked").textContent = blocked.size
    ? [...blocked.entries()].map(([uom, q]) => `${number.format(q)} ${uom}`).join(" · ")
    : "0";

  const oldest = holds.reduce((min, h) => (h.placedAt && (!min || h.placedAt < min) ? h.placedAt : min), null);
  const fig = $("fig-oldest");
  fig.dataset.since = oldest ?? "";
  fig.textContent = oldest ? age(oldest) : "–";

  const statuses = state.watch.map((id) => state.readiness.get(id)?.status);
  const notReady = statuses.filter((s) => s === "NOT_READY").length;
  const unknown = statuses.filter((s) => s === "UNKNOWN").length;
  $("fig-shipments").textContent = `${notReady} · ${unknown}`;
  $("fig-shipments").title = `${notReady} not ready and ${unknown} unknown of ${state.watch.length} watched`;
  renderCharts();
}

// ---------------------------------------------------------------------------------------------- business charts

// The charts over what the page holds already (active holds, their lots' stock): redrawn with the figures.
function renderCharts() {
  const holds = [...state.holds.values()];
  C.barChart($("chart-holds-bars"), C.holdsByReason(holds), C.segmentsOf(C.HOLD_AGES));
  $("chart-holds-empty").hidden = holds.length > 0;
  C.barChart($("chart-blocked-bars"), C.blockedStockByAge(holds, lotInfo), [["lots", "lots"]]);
}

const utcDay = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

// The charts that need their own queries: shipments at risk (plant dates are UTC days) and pending-action aging.
async function loadBusiness() {
  clearTimeout(loadBusiness.timer);
  const [today, tomorrow] = [utcDay(0), utcDay(1)];
  const segments = [["NOT_READY", "not ready"], ["UNKNOWN", "unknown"]];
  try {
    const { data, errors } = await query(Q.DUE_SHIPMENTS, { from: today, to: tomorrow });
    const due = (data.shipments?.edges ?? []).map((e) => e.node);
    C.barChart($("chart-risk-bars"), C.shipmentsAtRisk(due, today, tomorrow), segments);
    const risky = due.filter((s) => s.readiness && s.readiness.status !== "READY").map((s) => s.id);
    const more = risky.length > 6 ? ` +${risky.length - 6}` : "";
    $("chart-risk-note").textContent = errors.length ? describeErrors(errors) : risky.slice(0, 6).join(", ") + more;
  } catch (err) {
    $("chart-risk-note").textContent = err.message;
  }
  try {
    const { data } = await query(Q.OPEN_ACTIONS);
    const connection = data.pendingActionsConnection;
    const actions = (connection?.edges ?? []).map((e) => e.node);
    C.barChart($("chart-actions-bars"), C.pendingActionAging(actions), [["PENDING", "pending"], ["FAILED", "failed"]]);
    $("chart-actions-note").textContent = `${connection?.totalCount ?? actions.length} open`;
  } catch (err) {
    $("chart-actions-bars").replaceChildren();
    $("chart-actions-note").textContent = err.refused ? "Needs a token with the quality, viewer or admin role." : err.message;
  }
  loadBusiness.timer = setTimeout(loadBusiness, BUSINESS_REFRESH_MS);
}

// An event came: read the business figures again once the burst it belongs to is over.
function businessChanged() {
  clearTimeout(loadBusiness.timer);
  loadBusiness.timer = setTimeout(loadBusiness, BUSINESS_DEBOUNCE_MS);
}

function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("[data-since]")) {
    if (cell.dataset.since) cell.textContent = age(cell.dataset.since, now);
  }
}

// ---------------------------------------------------------------------------------------------- subscriptions

// A subscription that resumes after the last cursor it saw; `key` names the cursor in state.cursors. When the
// cursor is refused (unknown, or older than the log keeps), `reset` reloads what the events were keeping current and
// the subscription starts again from live events.
function resumable({ key, document, field, onEvent, what, reset = () => {} }) {
  let retry = null;
  let refused = false; // the token was refused: wait for a sign-in instead of trying again
  const again = () => {
    clearTimeout(retry);
    if (!refused) retry = setTimeout(subscribe, RESUBSCRIBE_MS);
  };
  const failed = (errors) => {
    if (errors.some((e) => CURSOR_CODES.has(e.extensions?.code))) {
      state.cursors[key] = null;
      reset();
    }
    refused = !subscriptionProblem(what, errors);
    return !refused;
  };
  const subscribe = () => {
    clearTimeout(retry);
    refused = false;
    unsubscribe[key]?.();
    unsubscribe[key] = connection.subscribe(
      { query: document, variables: () => ({ after: state.cursors[key] }) },
      {
        next(data, errors) {
          if (errors?.length && failed(errors) && !data) return;
          const raw = data?.[field];
          if (!raw) return;
          const event = Q.event(raw);
          if (event.cursor) state.cursors[key] = event.cursor;
          onEvent(event);
        },
        error(errors) {
          if (failed(errors)) again();
        },
        complete() {
          // The gateway ended the stream (an error came first, or it is going away): start it again.
          again();
        },
      },
    );
  };
  resubscribe[key] = subscribe;
  subscribe();
}

function subscribeReadiness() {
  unsubscribe.readiness?.();
  clearTimeout(subscribeReadiness.retry);
  if (!state.watch.length) return;
  const ids = state.watch;
  let refused = false;
  const again = () => {
    clearTimeout(subscribeReadiness.retry);
    if (refused) return;
    subscribeReadiness.retry = setTimeout(() => state.watch === ids && subscribeReadiness(), RESUBSCRIBE_MS);
  };
  unsubscribe.readiness = connection.subscribe(
    { query: Q.READINESS_CHANGED, variables: { ids } },
    {
      next(data, errors) {
        if (errors?.length) refused = !subscriptionProblem("Readiness", errors);
        const readiness = Q.readinessChange(data);
        if (readiness && state.watch.includes(readiness.shipmentId)) onReadiness(readiness);
      },
      error(errors) {
        refused = !subscriptionProblem("Readiness", errors);
        again();
      },
      complete: again,
    },
  );
}

// ---------------------------------------------------------------------------------------------- start

async function loadSnapshot() {
  try {
    await loadHolds();
  } catch (err) {
    requestProblem("Holds", err);
  }
}

// The newest cursor of the event log, or null when it cannot be read. Subscribing after it and then reading the
// holds misses nothing: whatever happens between the two reads comes as an event (a repeat is harmless).
async function logHead() {
  try {
    const { data } = await query("query DashboardLogHead { eventLogHead }");
    return typeof data?.eventLogHead === "string" ? data.eventLogHead : null;
  } catch {
    return null;
  }
}

// After a sign-in or sign-out: a new connection with the new credentials, every subscription started again, the
// holds read again.
async function restart() {
  state.holds.clear();
  state.released.clear();
  state.cursors.holds = await logHead();
  await backfillEvents();
  connection.restart();
  for (const start of Object.values(resubscribe)) start();
  if (state.watch.length) subscribeReadiness();
  else chooseWatch().then(setWatch);
  loadSnapshot();
  loadBusiness();
}

async function main() {
  setupSignIn();
  setupWatchForm();
  connection = new Connection(wsUrl, { connectionParams, onState: onLinkState });
  // The log's newest cursor, then the subscriptions after it, then the active holds: a hold placed in between comes
  // as an event (perhaps also in the answer), and a hold released in between stays removed even when the answer
  // still lists it.
  const head = await logHead();
  state.cursors.holds = head;
  await backfillEvents();
  resumable({
    key: "holds",
    document: Q.HOLD_EVENTS,
    field: Q.HOLD_EVENTS_FIELD,
    onEvent: onHoldEvent,
    what: "Hold events",
    reset: loadSnapshot,
  });
  resumable({ key: "stream", document: Q.STREAM, field: Q.STREAM_FIELD, onEvent: onStreamEvent, what: "Events" });
  connection.start();
  if (head === null) {
    // No cursor to start from (not signed in yet, or the log could not be read): read the holds once the gateway
    // has started the hold subscription (or after 5 s without an answer).
    const started = connection.request("query DashboardStarted { __typename }");
    await Promise.race([started, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  await loadSnapshot();
  setWatch(await chooseWatch());
  loadBusiness();
  setInterval(tick, 1000);
  setInterval(renderCharts, 30_000); // ages move on
}

main();
