"""How Tryton's states and records map to lotgraph's vocabulary, and how lotgraph's own records look in Tryton.

Pure tables and functions, no I/O: the adapters and the data set loader (plant/tryton) share them, and
docs/sources.md ("Connecting Tryton") writes the same tables down.

Identity: every record is known by its business number, the one Tryton shows its users — ``sale.sale.number``,
``stock.shipment.out.number``, ``stock.lot.number``, ``party.party.code``, ``product.product.code``. A sale still in
``draft`` has no number yet and is not visible to lotgraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sources.records import OrderStatus, ShipmentStatus, WarehouseStage

SALE_STATUS: dict[str, OrderStatus] = {
    "draft": OrderStatus.CREATED,
    "quotation": OrderStatus.CREATED,
    "confirmed": OrderStatus.RELEASED,
    "processing": OrderStatus.RELEASED,
    "done": OrderStatus.COMPLETED,
    "cancelled": OrderStatus.CANCELLED,
}

SHIPMENT_STATUS: dict[str, ShipmentStatus] = {
    "draft": ShipmentStatus.PLANNED,
    "waiting": ShipmentStatus.PLANNED,
    "assigned": ShipmentStatus.IN_PROGRESS,
    "picked": ShipmentStatus.IN_PROGRESS,
    "packed": ShipmentStatus.IN_PROGRESS,
    "shipped": ShipmentStatus.SHIPPED,
    "done": ShipmentStatus.SHIPPED,
    "cancelled": ShipmentStatus.CANCELLED,
}

# The warehouse stage of a customer shipment. ``draft`` and ``waiting`` have not been started by the warehouse
# (missing from the WMS, as the contract says) unless some of their inventory moves are already reserved, which
# makes them ALLOCATED (partly). ``cancelled`` shipments are missing too.
SHIPMENT_STAGE: dict[str, WarehouseStage] = {
    "assigned": WarehouseStage.ALLOCATED,
    "picked": WarehouseStage.PICKED,
    "packed": WarehouseStage.STAGED,
    "shipped": WarehouseStage.LOADED,
    "done": WarehouseStage.SHIPPED,
}

STAGE_STATES: dict[WarehouseStage, list[str]] = {}
for _state, _stage in SHIPMENT_STAGE.items():
    STAGE_STATES.setdefault(_stage, []).append(_state)

RESERVED_MOVE_STATES = ("assigned", "done")
"""Inventory moves (storage → output) that hold stock for a shipment: reserved (assigned) or already picked."""

QUARANTINE_CODE = "QUA"
"""Code of the storage location lotgraph moves blocked stock into (created under the warehouse if missing)."""

HOLD_CONTROL = "lotgraph hold"
"""Name of the quality control whose inspections carry lotgraph's holds (it lists no operation: it gates nothing)."""

HOLD_POINT = "lotgraph_usable"
"""The control's one point (boolean): a hold inspection records it false, so Tryton fails it and keeps its alert."""

MOVE_REFERENCE = "lotgraph:{action}:{key}"
"""``reference`` of the internal shipment that blocks or unblocks a lot's stock: a retry finds it and never moves
stock twice."""

_MARK = re.compile(r"^\[lotgraph (hold|release) key=(\S+) by=(.*?)\](?: (.*))?$", re.MULTILINE)


def move_reference(action: str, key: str) -> str:
    return MOVE_REFERENCE.format(action=action, key=key)


def hold_title(reason_code: str) -> str:
    return reason_code


def hold_description(comment: str | None, *, key: str, placed_by: str) -> str:
    """The text of a hold's quality alert: the comment, then a line lotgraph reads back."""
    head = f"{comment}\n" if comment else ""
    return f"{head}[lotgraph hold key={key} by={placed_by}]"


def release_line(*, key: str, released_by: str, comment: str | None) -> str:
    return f"\n[lotgraph release key={key} by={released_by}]" + (f" {comment}" if comment else "")


@dataclass(frozen=True, slots=True)
class HoldMarks:
    """What lotgraph wrote into a hold alert's description."""

    comment: str | None
    key: str | None
    placed_by: str | None
    release_key: str | None
    released_by: str | None
    release_comment: str | None


def read_marks(description: str | None) -> HoldMarks:
    text = description or ""
    hold = release = None
    for match in _MARK.finditer(text):
        if match.group(1) == "hold":
            hold = match
        else:
            release = match
    comment = _MARK.sub("", text).strip() or None
    return HoldMarks(
        comment=comment,
        key=hold.group(2) if hold else None,
        placed_by=hold.group(3) if hold else None,
        release_key=release.group(2) if release else None,
        released_by=release.group(3) if release else None,
        release_comment=release.group(4) if release else None,
    )
