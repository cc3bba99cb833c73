"""EPCIS 2.0 documents: an ``EPCISDocument`` or an ``EPCISQueryDocument`` read whole, or refused whole.

Accepted: UTF-8 with or without a byte-order mark; ``@context`` as one URI or a list of URIs and prefix objects
(any version of the GS1 context); ``schemaVersion`` 2.0 in any of its spellings. The first wrong event refuses the
document with its index, its eventID and the field (``DocumentError``), so an importer loads all or nothing.
Master data (``epcisHeader.epcisMasterData``) gives product descriptions by EPC class.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sources.epcis.events import Event, EventError, read_event

DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")
DESCRIPTION_ATTRIBUTES = ("urn:epcglobal:cbv:mda#descriptionShort", "cbvmda:descriptionShort", "descriptionShort")


class DocumentError(ValueError):
    """Why a document was refused: where (event index and id, field) and what."""

    def __init__(self, message: str, *, index: int | None = None, event_id: str | None = None, field: str = "") -> None:
        where = "" if index is None else f"event {index}" + (f" ({event_id})" if event_id else "") + ", "
        super().__init__(f"{where}{field + ': ' if field else ''}{message}")
        self.index = index
        self.event_id = event_id
        self.field = field


@dataclass(frozen=True, slots=True)
class Document:
    type: str
    events: list[Event]
    descriptions: dict[str, str] = field(default_factory=dict)
    """Product descriptions by EPC class (or product class), from the document's master data."""


def read_document(data: bytes | str) -> Document:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise DocumentError(f"not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise DocumentError("an EPCIS document is a JSON object")
    kind = body.get("type")
    if kind not in DOCUMENT_TYPES:
        raise DocumentError(f"one of {', '.join(DOCUMENT_TYPES)}", field="type")
    context = body.get("@context")
    if not (isinstance(context, str) or (isinstance(context, list) and context)):
        raise DocumentError("a URI or a list of URIs and prefix objects is required", field="@context")
    if not str(body.get("schemaVersion", "")).startswith("2."):
        raise DocumentError("EPCIS 2.0 documents only", field="schemaVersion")
    items = _event_list(body, kind)
    events = []
    for index, item in enumerate(items):
        try:
            events.append(read_event(item))
        except EventError as exc:
            event_id = item.get("eventID") if isinstance(item, dict) else None
            raise DocumentError(
                exc.message, index=index, event_id=event_id if isinstance(event_id, str) else None, field=exc.field
            ) from None
    return Document(kind, events, _descriptions(body))


def _event_list(body: dict[str, Any], kind: str) -> list[Any]:
    epcis_body = body.get("epcisBody")
    if not isinstance(epcis_body, dict):
        raise DocumentError("an object is required", field="epcisBody")
    where = "epcisBody.eventList"
    if kind == "EPCISQueryDocument":
        results = epcis_body.get("queryResults")
        results_body = results.get("resultsBody") if isinstance(results, dict) else None
        if not isinstance(results_body, dict):
            raise DocumentError("an object is required", field="epcisBody.queryResults.resultsBody")
        epcis_body, where = results_body, "epcisBody.queryResults.resultsBody.eventList"
    items = epcis_body.get("eventList", [])
    if not isinstance(items, list):
        raise DocumentError("a list of events is required", field=where)
    return items


def _descriptions(body: dict[str, Any]) -> dict[str, str]:
    header = body.get("epcisHeader")
    master = header.get("epcisMasterData") if isinstance(header, dict) else None
    vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
    found: dict[str, str] = {}
    for vocabulary in vocabularies if isinstance(vocabularies, list) else []:
        elements = vocabulary.get("vocabularyElementList") if isinstance(vocabulary, dict) else None
        for element in elements if isinstance(elements, list) else []:
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                continue
            for attribute in element.get("attributes") or []:
                named = isinstance(attribute, dict) and attribute.get("id") in DESCRIPTION_ATTRIBUTES
                if named and isinstance(attribute.get("attribute"), str):
                    found[element["id"]] = attribute["attribute"]
    return found
