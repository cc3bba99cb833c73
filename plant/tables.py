"""The SQLite schema of each system, shared by the services and the generator.

Ids are zero-padded strings, so ``ORDER BY id`` is both the keyset order of searches and the numeric
order. Every lookup a handler makes has an index; nested lists that never change on their own
(order and shipment lines) are kept as JSON text next to the row.
"""

from __future__ import annotations

COMMON = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    keys TEXT NOT NULL,
    payload TEXT NOT NULL,
    correlation_id TEXT
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

ERP = (
    COMMON
    + """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, coa_required INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, uom TEXT NOT NULL, coa_required INTEGER NOT NULL,
    shelf_life_days INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL, order_date TEXT NOT NULL,
    requested_date TEXT NOT NULL, credit_block INTEGER NOT NULL, credit_block_since TEXT,
    delivery_block INTEGER NOT NULL, delivery_block_reason TEXT, delivery_block_since TEXT,
    lines TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status, id);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id, id);
CREATE TABLE IF NOT EXISTS shipments (
    id TEXT PRIMARY KEY, order_id TEXT NOT NULL, customer_id TEXT NOT NULL, status TEXT NOT NULL,
    warehouse TEXT NOT NULL, ship_date TEXT NOT NULL, shipped_at TEXT, lines TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id, id);
CREATE INDEX IF NOT EXISTS shipments_status ON shipments (status, id);
CREATE INDEX IF NOT EXISTS shipments_customer ON shipments (customer_id, id);
CREATE INDEX IF NOT EXISTS shipments_date ON shipments (ship_date, id);
CREATE TABLE IF NOT EXISTS shipment_lots (
    lot_id TEXT NOT NULL, shipment_id TEXT NOT NULL, PRIMARY KEY (lot_id, shipment_id)
) WITHOUT ROWID;
"""
)

QMS = (
    COMMON
    + """
CREATE TABLE IF NOT EXISTS quality_lots (
    lot_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, disposition TEXT NOT NULL,
    disposition_at TEXT NOT NULL, expiry_date TEXT NOT NULL, coa_id TEXT, coa_issued_at TEXT,
    pre_hold_disposition TEXT
);
CREATE INDEX IF NOT EXISTS quality_lots_product ON quality_lots (product_id, lot_id);
CREATE INDEX IF NOT EXISTS quality_lots_disposition ON quality_lots (disposition, lot_id);
CREATE TABLE IF NOT EXISTS holds (
    num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, lot_id TEXT NOT NULL, status TEXT NOT NULL,
    reason_code TEXT NOT NULL, comment TEXT NOT NULL, placed_by TEXT NOT NULL, placed_at TEXT NOT NULL,
    released_by TEXT, released_at TEXT, release_comment TEXT, correlation_id TEXT,
    release_correlation_id TEXT
);
CREATE INDEX IF NOT EXISTS holds_lot ON holds (lot_id, status);
CREATE INDEX IF NOT EXISTS holds_status ON holds (status, id);
CREATE INDEX IF NOT EXISTS holds_reason ON holds (reason_code, id);
CREATE TABLE IF NOT EXISTS deviations (
    num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, lot_id TEXT NOT NULL, status TEXT NOT NULL,
    severity TEXT NOT NULL, title TEXT NOT NULL, opened_at TEXT NOT NULL, closed_at TEXT,
    correlation_id TEXT
);
CREATE INDEX IF NOT EXISTS deviations_lot ON deviations (lot_id, status);
"""
)

MES = (
    COMMON
    + """
CREATE TABLE IF NOT EXISTS lots (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL, kind TEXT NOT NULL, quantity REAL NOT NULL,
    uom TEXT NOT NULL, produced_at TEXT NOT NULL, plant TEXT NOT NULL, work_order_id TEXT, supplier TEXT
);
CREATE INDEX IF NOT EXISTS lots_product ON lots (product_id, id);
CREATE INDEX IF NOT EXISTS lots_kind ON lots (kind, id);
CREATE INDEX IF NOT EXISTS lots_plant ON lots (plant, id);
CREATE TABLE IF NOT EXISTS genealogy (
    input_lot_id TEXT NOT NULL, output_lot_id TEXT NOT NULL, quantity REAL, uom TEXT,
    work_order_id TEXT, occurred_at TEXT NOT NULL, PRIMARY KEY (input_lot_id, output_lot_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS genealogy_output ON genealogy (output_lot_id);
CREATE TABLE IF NOT EXISTS epcis_events (event_id TEXT PRIMARY KEY, event_time TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS epcis_event_lots (
    lot_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (lot_id, event_id)
) WITHOUT ROWID;
"""
)

WMS = (
    COMMON
    + """
CREATE TABLE IF NOT EXISTS stock (
    lot_id TEXT NOT NULL, location TEXT NOT NULL, quantity REAL NOT NULL, uom TEXT NOT NULL,
    status TEXT NOT NULL, status_since TEXT NOT NULL, PRIMARY KEY (lot_id, location)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shipments (
    id TEXT PRIMARY KEY, stage TEXT NOT NULL, stage_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS shipments_stage ON shipments (stage, id);
CREATE TABLE IF NOT EXISTS allocations (
    shipment_id TEXT NOT NULL, line_no INTEGER NOT NULL, lot_id TEXT NOT NULL, location TEXT NOT NULL,
    quantity REAL NOT NULL, stock_status TEXT NOT NULL,
    PRIMARY KEY (shipment_id, line_no, lot_id, location)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS allocations_lot ON allocations (lot_id);
"""
)

SCHEMAS = {"erp": ERP, "qms": QMS, "mes": MES, "wms": WMS}
