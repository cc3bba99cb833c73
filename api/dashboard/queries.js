// Every GraphQL document the dashboard sends, and the mapping of subscription answers to the page's own shapes.
// Field names follow `lotgraph export-schema`; when the schema changes, this is the file to change.

const HOLD_FIELDS = "id lotId status reasonCode comment placedBy placedAt correlationId";
const STOCK_FIELDS = "status quantity uom";
const READINESS_FIELDS = "shipmentId status blockers { code source message lotId orderId lineNo since }";
const ENVELOPE = "id cursor type source occurredAt correlationId keys { lotIds orderIds shipmentIds }";

export const ACTIVE_HOLDS = `query DashboardHolds($after: String) {
  holds(status: ACTIVE, first: 500, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${HOLD_FIELDS} } }
  }
}`;

export const LOTS = `query DashboardLots($ids: [ID!]!) {
  lots(ids: $ids, first: 500) { edges { node { id product { id name } stock { ${STOCK_FIELDS} } } } }
}`;

// Open shipments due in a date range (ISO dates), with their readiness: the "at risk" chart.
export const DUE_SHIPMENTS = `query DashboardDueShipments($from: Date!, $to: Date!) {
  shipments(filter: {status: [PLANNED, IN_PROGRESS], shipDateFrom: $from, shipDateTo: $to}, first: 200) {
    totalCount
    edges { node { id shipDate readiness { status } } }
  }
}`;

// Pending actions still open (quality, viewer and admin roles): the aging chart, over the newest 500.
export const OPEN_ACTIONS = `query DashboardPendingActions {
  pendingActionsConnection(status: [PENDING, FAILED], first: 500) {
    totalCount
    edges { node { id status createdAt } }
  }
}`;

export const OPEN_SHIPMENTS = `query DashboardShipments($first: Int!) {
  shipments(filter: {status: [PLANNED, IN_PROGRESS]}, first: $first) { edges { node { id } } }
}`;

// The newest events of the log, oldest first: shown at load, before the event subscription resumes after them.
export const RECENT_EVENTS = `query DashboardRecentEvents($last: Int!) {
  recentEvents(last: $last) { ${ENVELOPE} }
}`;

export const HOLD_EVENTS_FIELD = "holdEvents";
export const HOLD_EVENTS = `subscription DashboardHoldEvents($after: String) {
  holdEvents(after: $after) { ${ENVELOPE} payload }
}`;

export const STREAM_FIELD = "statusEvents";
export const STREAM = `subscription DashboardEvents($after: String) {
  statusEvents(after: $after) { ${ENVELOPE} }
}`;

// First the current readiness of each shipment (also after every reconnect), then each change of status or blockers.
export const READINESS_CHANGED = `subscription DashboardReadinessChanged($ids: [ID!]!) {
  shipmentReadinessChanged(shipmentIds: $ids, initial: true) { readiness { ${READINESS_FIELDS} } }
}`;

// An event as the page keeps it: {id, cursor, type, source, occurredAt, correlationId, lotIds, orderIds,
// shipmentIds, hold}; `hold` (shaped as HOLD_FIELDS) for HoldPlaced and HoldReleased, from the payload, which is
// the QMS hold record (catalog: `eventTypes`).
export function event(raw) {
  const { keys, payload, ...envelope } = raw;
  const hold = HOLD_TYPES.has(raw.type) && payload?.id ? holdOfPayload(payload, raw.correlationId) : null;
  return {
    ...envelope,
    lotIds: keys?.lotIds ?? [],
    orderIds: keys?.orderIds ?? [],
    shipmentIds: keys?.shipmentIds ?? [],
    hold,
  };
}

const HOLD_TYPES = new Set(["HoldPlaced", "HoldReleased"]);

function holdOfPayload(p, correlationId) {
  return {
    id: p.id,
    lotId: p.lot_id,
    status: p.status,
    reasonCode: p.reason_code,
    comment: p.comment || null,
    placedBy: p.placed_by ?? null,
    placedAt: p.placed_at ?? null,
    correlationId: p.correlation_id ?? correlationId ?? null,
  };
}

// The readiness a shipmentReadinessChanged message carries.
export function readinessChange(data) {
  return data?.shipmentReadinessChanged?.readiness ?? null;
}
