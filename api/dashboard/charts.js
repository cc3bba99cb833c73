// The business figures as small bar charts: plain DOM and SVG (attributes only, so the page's Content Security
// Policy needs no inline styles), each bar with its numbers as text, for people and for screen readers alike.

const SVG = "http://www.w3.org/2000/svg";
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

// Age buckets: [key, label, upper bound in ms (exclusive), short label]; the last one is open.
export const HOLD_AGES = [
  ["day", "under 1 day", DAY, "< 1 d"],
  ["week", "1–7 days", 7 * DAY, "1–7 d"],
  ["older", "over 7 days", Infinity, "> 7 d"],
];
export const ACTION_AGES = [
  ["hour", "under 1 h", HOUR, "< 1 h"],
  ["day", "1–24 h", DAY, "1–24 h"],
  ["older", "over 1 day", Infinity, "> 1 d"],
];

// The key of the bucket an age since `since` (ISO time) falls in.
export function ageBucket(since, buckets, now = Date.now()) {
  const age = Math.max(0, now - Date.parse(since));
  return buckets.find(([, , upper]) => age < upper)[0];
}

// The segments of a chart split by age: [[key, label], ...].
export const segmentsOf = (buckets) => buckets.map(([key, , , short]) => [key, short]);

// Holds by reason, each split by age: rows for barChart, most holds first.
export function holdsByReason(holds, now = Date.now()) {
  const rows = new Map();
  for (const hold of holds) {
    const row = rows.get(hold.reasonCode) ?? { key: hold.reasonCode, label: hold.reasonCode, values: {} };
    const bucket = hold.placedAt ? ageBucket(hold.placedAt, HOLD_AGES, now) : HOLD_AGES[0][0];
    row.values[bucket] = (row.values[bucket] ?? 0) + 1;
    rows.set(hold.reasonCode, row);
  }
  return [...rows.values()].sort((a, b) => total(b) - total(a) || a.label.localeCompare(b.label));
}

// Blocked stock of the lots on hold, by the age of the lot's oldest active hold: one row per age bucket, counting
// lots, with the quantities per unit as the row's text.
export function blockedStockByAge(holds, lotInfo, now = Date.now()) {
  const since = new Map(); // lot id -> its oldest active hold's placedAt
  for (const hold of holds) {
    const before = since.get(hold.lotId);
    if (hold.placedAt && (!before || hold.placedAt < before)) since.set(hold.lotId, hold.placedAt);
  }
  const rows = HOLD_AGES.map(([key, label]) => ({ key, label, values: { lots: 0 }, quantities: new Map() }));
  for (const [lotId, placedAt] of since) {
    const blocked = (lotInfo(lotId)?.stock ?? []).filter((s) => s.status === "BLOCKED");
    if (!blocked.length) continue;
    const row = rows.find((r) => r.key === ageBucket(placedAt, HOLD_AGES, now));
    row.values.lots += 1;
    for (const s of blocked) row.quantities.set(s.uom, (row.quantities.get(s.uom) ?? 0) + s.quantity);
  }
  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  return rows.map((row) => ({
    key: row.key,
    label: row.label,
    values: row.values,
    text:
      `${row.values.lots} ${row.values.lots === 1 ? "lot" : "lots"}` +
      [...row.quantities].map(([uom, q]) => ` · ${number.format(q)} ${uom}`).join(""),
  }));
}

// Shipments due today or tomorrow that are not READY, one row per day, split by status.
export function shipmentsAtRisk(shipments, today, tomorrow) {
  return [
    [today, "today"],
    [tomorrow, "tomorrow"],
  ].map(([day, key]) => {
    const due = shipments.filter((s) => s.shipDate === day);
    const values = { NOT_READY: 0, UNKNOWN: 0 };
    for (const s of due) if (s.readiness?.status in values) values[s.readiness.status] += 1;
    const text = `${values.NOT_READY + values.UNKNOWN} of ${due.length} not ready`;
    return { key, label: key, values, text };
  });
}

// Pending actions (PENDING and FAILED) by age since they were made.
export function pendingActionAging(actions, now = Date.now()) {
  return ACTION_AGES.map(([key, label]) => {
    const values = { PENDING: 0, FAILED: 0 };
    for (const a of actions) if (ageBucket(a.createdAt, ACTION_AGES, now) === key) values[a.status] += 1;
    return { key, label, values };
  });
}

function attributeName(key) {
  return key.toLowerCase().replaceAll("_", "-");
}

function total(row) {
  return Object.values(row.values).reduce((sum, n) => sum + n, 0);
}

// Draw `rows` ({key, label, values: {segment key: n}, text?}) into the list element `list` as horizontal bars, each
// segment a rect of class `seg-<key>`; bars share one scale (the largest row). `segments`: [[key, name], ...]. Each
// item carries data-key, data-total and data-<segment key> (lowercase, "-" for "_") with its counts.
export function barChart(list, rows, segments) {
  const largest = Math.max(1, ...rows.map(total));
  list.replaceChildren(
    ...rows.map((row) => {
      const svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 100 10");
      svg.setAttribute("preserveAspectRatio", "none");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("class", "bar");
      let x = 0;
      for (const [key] of segments) {
        const width = ((row.values[key] ?? 0) / largest) * 100;
        if (!width) continue;
        const rect = document.createElementNS(SVG, "rect");
        const attributes = { x, y: 0, width, height: 10, class: `seg-${attributeName(key)}` };
        for (const [name, value] of Object.entries(attributes)) {
          rect.setAttribute(name, String(value));
        }
        svg.append(rect);
        x += width;
      }
      const parts = segments.filter(([key]) => row.values[key]).map(([key, name]) => `${row.values[key]} ${name}`);
      const item = document.createElement("li");
      item.dataset.key = row.key;
      item.dataset.total = String(total(row));
      for (const [key] of segments) item.setAttribute(`data-${attributeName(key)}`, String(row.values[key] ?? 0));
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = row.label.toLowerCase().replaceAll("_", " ");
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = row.text ?? (parts.join(" · ") || "0");
      item.append(label, svg, value);
      return item;
    }),
  );
}
