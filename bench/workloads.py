"""The workloads lotgraph is measured on, as GraphQL operations: one place for every bench that runs them.

Each workload is a lotgraph query and, where the peer gateway can express it, the same question asked of Hive
Gateway over the composed schema of ``bench/peer/mesh.config.ts`` (the plant's four OpenAPI documents, type
and root fields prefixed by system, links ``erp_Shipment.order``, ``erp_AssignedLot.lot``/``.quality``/``.stock``).
Both ask for the same data, so they make the same upstream requests except where the peer cannot batch (stock
is one WMS call per lot there).

``workloads(sample)`` binds the variables to ids of a generated plant (``sample_ids(manifest, ...)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LOT = "query($id: ID!) { lot(id: $id) { id kind quantity uom producedAt plant workOrder supplier } }"
LOT_PEER = (
    "query($id: String!) { mes_getLot(id: $id) { id kind quantity uom produced_at plant work_order_id supplier } }"
)

SHIPMENT = (
    "query($id: ID!) { shipment(id: $id) { id status shipDate "
    "order { id status creditBlock deliveryBlock } "
    "lines { lineNo quantity lots { id disposition stock { location quantity status } } } } }"
)
SHIPMENT_PEER = (
    "query($id: String!) { erp_getShipment(id: $id) { id status ship_date "
    "order { id status credit_block delivery_block } "
    "lines { line_no quantity lots { lot_id quality { disposition } stock { location quantity status } } } } }"
)

SHIPMENTS = (
    "query($ids: [ID!]!) { shipments(ids: $ids, first: 500) { edges { node { id status "
    "order { id status } lines { lineNo lots { id disposition } } } } } }"
)
SHIPMENTS_PEER = (
    "query($ids: [String]) { erp_listShipments(ids: $ids) { items { id status "
    "order { id status } lines { line_no lots { lot_id quality { disposition } } } } } }"
)

READINESS = (
    "query($id: ID!) { shipmentReadiness(shipmentId: $id) { shipmentId status ready evaluatedAt "
    "blockers { code source message lotId orderId lineNo since } checks { name source status detail } } }"
)

LIST_SIZE = 50
"""Shipments asked for in the list workload."""


@dataclass(frozen=True, slots=True)
class Sample:
    """Ids of a generated plant the workloads ask about."""

    lot_id: str
    shipment_id: str
    shipment_ids: Sequence[str]


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    title: str
    query: str
    variables: Mapping[str, Any]
    peer_query: str | None
    """The same question for the peer gateway; None when it cannot express it."""

    def body(self) -> dict[str, Any]:
        return {"query": self.query, "variables": dict(self.variables)}

    def peer_body(self) -> dict[str, Any] | None:
        if self.peer_query is None:
            return None
        return {"query": self.peer_query, "variables": dict(self.variables)}


def workloads(sample: Sample) -> list[Workload]:
    one = {"id": sample.shipment_id}
    many = {"ids": list(sample.shipment_ids)}
    return [
        Workload("lot", "one lot by id (passthrough)", LOT, {"id": sample.lot_id}, LOT_PEER),
        Workload("shipment", "one shipment with order, lots, dispositions, stock", SHIPMENT, one, SHIPMENT_PEER),
        Workload(
            "shipments",
            f"{LIST_SIZE} shipments with orders and lots' dispositions",
            SHIPMENTS,
            many,
            SHIPMENTS_PEER,
        ),
        Workload("readiness", "shipment readiness", READINESS, one, None),
    ]


def sample_ids(manifest: Mapping[str, Any], lot_id: str, shipment_ids: Sequence[str]) -> Sample:
    """A sample from the generator's manifest (its READY shipment) and ids read from the plant."""
    ready = manifest["shipments"]["ready"][0]
    return Sample(lot_id=lot_id, shipment_id=ready, shipment_ids=list(shipment_ids)[:LIST_SIZE])
