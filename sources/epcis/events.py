"""EPCIS 2.0 events (JSON / JSON-LD) read into plain records, checked field by field.

Only what genealogy, custody and the exports use is read; everything else of an event is kept as given (``raw``).
A field of the wrong shape raises ``EventError`` naming the field, so a document importer can name the event and
the field, and an adapter can turn it into a protocol error.

Business steps, dispositions and the like are read in any of their CBV spellings (``shipping``,
``urn:epcglobal:cbv:bizstep:shipping``, ``https://ref.gs1.org/cbv/BizStep-shipping``) and kept short; other URIs
(``urn:gdst:bizStep:farmHarvest``) are kept whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent", "TransactionEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")
_CBV_PREFIXES = (
    "urn:epcglobal:cbv:bizstep:",
    "urn:epcglobal:cbv:disp:",
    "urn:epcglobal:cbv:btt:",
    "urn:epcglobal:cbv:sdt:",
)
_CBV_WEB = re.compile(r"https://ref\.gs1\.org/cbv/(?:BizStep|Disp|BTT|SDT)-(.+)")
_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")


class EventError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Quantity:
    epc_class: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True, slots=True)
class Party:
    type: str
    id: str


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    event_id: str | None
    event_time: datetime
    time_zone_offset: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    epcs: tuple[str, ...]
    """``epcList``, ``childEPCs``: instances (or containers) the event is about."""
    quantities: tuple[Quantity, ...]
    """``quantityList``, ``childQuantityList``."""
    input_epcs: tuple[str, ...]
    input_quantities: tuple[Quantity, ...]
    output_epcs: tuple[str, ...]
    output_quantities: tuple[Quantity, ...]
    parent_id: str | None
    transformation_id: str | None
    biz_location: str | None
    read_point: str | None
    biz_transactions: tuple[Party, ...]
    sources: tuple[Party, ...]
    destinations: tuple[Party, ...]
    raw: dict[str, Any]

    @property
    def classes(self) -> list[str]:
        """Every EPC and EPC class the event names, inputs, outputs and children alike."""
        found = [*self.epcs, *self.input_epcs, *self.output_epcs]
        found += [q.epc_class for q in (*self.quantities, *self.input_quantities, *self.output_quantities)]
        return list(dict.fromkeys(found))


def short_cbv(value: str | None) -> str | None:
    if value is None:
        return None
    for prefix in _CBV_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    found = _CBV_WEB.fullmatch(value)
    return found.group(1) if found else value


def read_event(value: Any) -> Event:
    """One event of an ``eventList``; ``EventError`` names the first field that is wrong."""
    if not isinstance(value, dict):
        raise EventError("(event)", "an event is a JSON object")
    kind = _text(value, "type")
    if kind not in EVENT_TYPES:
        raise EventError("type", f"one of {', '.join(EVENT_TYPES)}, got {kind[:60]!r}")
    action = _opt_text(value, "action")
    if kind != "TransformationEvent" and action not in ACTIONS:
        raise EventError("action", f"one of {', '.join(ACTIONS)} for a {kind}")
    offset = _text(value, "eventTimeZoneOffset")
    if not _OFFSET.fullmatch(offset):
        raise EventError("eventTimeZoneOffset", f"expected +hh:mm or -hh:mm, got {offset[:20]!r}")
    transformation_id = _opt_text(value, "transformationID")
    sides = ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")
    if kind == "TransformationEvent" and transformation_id is None and not any(value.get(k) for k in sides):
        raise EventError("inputQuantityList", "a TransformationEvent needs inputs or outputs")
    return Event(
        type=kind,
        event_id=_opt_text(value, "eventID"),
        event_time=_time(value, "eventTime"),
        time_zone_offset=offset,
        action=action,
        biz_step=short_cbv(_opt_text(value, "bizStep")),
        disposition=short_cbv(_opt_text(value, "disposition")),
        epcs=(*_texts(value, "epcList"), *_texts(value, "childEPCs")),
        quantities=(*_quantities(value, "quantityList"), *_quantities(value, "childQuantityList")),
        input_epcs=_texts(value, "inputEPCList"),
        input_quantities=_quantities(value, "inputQuantityList"),
        output_epcs=_texts(value, "outputEPCList"),
        output_quantities=_quantities(value, "outputQuantityList"),
        parent_id=_opt_text(value, "parentID"),
        transformation_id=transformation_id,
        biz_location=_place(value, "bizLocation"),
        read_point=_place(value, "readPoint"),
        biz_transactions=_parties(value, "bizTransactionList", "bizTransaction"),
        sources=_parties(value, "sourceList", "source"),
        destinations=_parties(value, "destinationList", "destination"),
        raw=value,
    )


def _text(value: dict[str, Any], key: str) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found:
        raise EventError(key, "a non-empty string is required")
    return found


def _opt_text(value: dict[str, Any], key: str) -> str | None:
    return None if value.get(key) is None else _text(value, key)


def _time(value: dict[str, Any], key: str) -> datetime:
    text = _text(value, key)
    try:
        stamp = datetime.fromisoformat(_seven_digits(text))
    except ValueError:
        raise EventError(key, f"not a date-time: {text[:40]!r}") from None
    if stamp.tzinfo is None:
        raise EventError(key, "a date-time needs its offset (Z or ±hh:mm)")
    return stamp


def _seven_digits(text: str) -> str:
    """.NET writes seven fractional digits (``11:09:40.7930000+00:00``); Python reads at most six."""
    return re.sub(r"(\.\d{6})\d+", r"\1", text)


def _texts(value: dict[str, Any], key: str) -> tuple[str, ...]:
    found = value.get(key)
    if found is None:
        return ()
    if not isinstance(found, list) or not all(isinstance(item, str) and item for item in found):
        raise EventError(key, "a list of EPC strings is required")
    return tuple(found)


def _quantities(value: dict[str, Any], key: str) -> tuple[Quantity, ...]:
    found = value.get(key)
    if found is None:
        return ()
    if not isinstance(found, list):
        raise EventError(key, "a list of quantity elements is required")
    out = []
    for i, item in enumerate(found):
        where = f"{key}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("epcClass"), str) or not item["epcClass"]:
            raise EventError(f"{where}.epcClass", "a non-empty string is required")
        quantity = item.get("quantity")
        if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int | float)):
            raise EventError(f"{where}.quantity", "a number is required")
        if quantity is not None and quantity < 0:
            raise EventError(f"{where}.quantity", "must not be negative")
        uom = item.get("uom")
        if uom is not None and (not isinstance(uom, str) or not uom):
            raise EventError(f"{where}.uom", "a unit code string is required")
        if uom is not None and quantity is None:
            raise EventError(f"{where}.quantity", "a unit without a quantity")
        out.append(Quantity(item["epcClass"], None if quantity is None else float(quantity), uom))
    return tuple(out)


def _place(value: dict[str, Any], key: str) -> str | None:
    found = value.get(key)
    if found is None:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("id"), str):
        raise EventError(f"{key}.id", "a location id string is required")
    return str(found["id"])


def _parties(value: dict[str, Any], key: str, field: str) -> tuple[Party, ...]:
    found = value.get(key)
    if found is None:
        return ()
    if not isinstance(found, list):
        raise EventError(key, "a list is required")
    out = []
    for i, item in enumerate(found):
        if not isinstance(item, dict) or not isinstance(item.get(field), str):
            raise EventError(f"{key}[{i}].{field}", "a string is required")
        kind = item.get("type")
        out.append(Party(short_cbv(kind) or "" if isinstance(kind, str) else "", item[field]))
    return tuple(out)
