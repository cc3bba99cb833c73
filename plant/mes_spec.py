"""The OpenAPI document of the MES."""

from __future__ import annotations

from typing import Any

from plant.openapi import DATETIME, NUMBER, STRING, Spec, enum, filters, nullable, obj

KINDS = ("RAW", "INTERMEDIATE", "FINISHED")


def build() -> dict[str, Any]:
    schemas = {
        "Lot": obj(
            {
                "id": STRING,
                "product_id": STRING,
                "kind": enum(*KINDS),
                "quantity": NUMBER,
                "uom": STRING,
                "produced_at": DATETIME,
                "plant": STRING,
                "work_order_id": nullable(STRING),
                "supplier": nullable(STRING),
                "gtin": {**nullable(STRING), "description": "GTIN-14 of the product; the lot id is its GS1 lot number"},
            }
        ),
        "GenealogyEdge": obj(
            {
                "input_lot_id": STRING,
                "output_lot_id": STRING,
                "quantity": {**nullable(NUMBER), "description": "quantity of the input consumed, if recorded"},
                "uom": nullable(STRING),
                "work_order_id": nullable(STRING),
                "occurred_at": DATETIME,
            }
        ),
    }
    spec = Spec("lotgraph reference plant: MES", "Lots, work orders and genealogy.", schemas)
    spec.batch_read("/lots", "Lot", [("ids", "lot ids")], "lots by id")
    spec.single_read("/lots/{id}", "Lot", "one lot")
    spec.search(
        "/lots/search",
        "Lot",
        filters({"product_id": STRING, "plant": STRING, "kind": enum(*KINDS)}),
        "lots, filtered",
    )
    spec.batch_read(
        "/genealogy",
        "GenealogyEdge",
        [
            ("output_lot_ids", "the edges into these lots: their inputs, one level backward"),
            ("input_lot_ids", "the edges out of these lots: where they were used, one level forward"),
        ],
        "genealogy edges, one level (missing is always empty)",
    )
    spec.paths["/epcis/events"] = {"get": _epcis_events()}
    return spec.build()


EPCIS_PARAMETERS = {
    "eventType": "event types, e.g. TransformationEvent",
    "MATCH_inputEPCClass": "EPC classes (URN or Digital Link) among a TransformationEvent's inputs",
    "MATCH_outputEPCClass": "EPC classes among a TransformationEvent's outputs",
    "MATCH_anyEPCClass": "EPC classes anywhere in the event",
    "MATCH_epcClass": "as MATCH_anyEPCClass",
    "MATCH_epc": "EPCs (instances, containers) anywhere in the event",
    "MATCH_anyEPC": "EPCs anywhere in the event, the parent of an aggregation included",
    "EQ_bizStep": "business steps (CBV short name or URI)",
    "GE_eventTime": "events at or after this time",
    "LT_eventTime": "events before this time",
    "EQ_ILMD_cbvmda:lotNumber": "lot numbers (the events that made those lots)",
    "perPage": "events per page (1-10000, 1000 by default)",
    "nextPageToken": "the page to read, from the Link header of the previous one",
}


def _epcis_events() -> dict[str, Any]:
    return {
        "summary": "EPCIS 2.0 events (REST query interface) over the lots and genealogy, the custody and "
        "containment of received lots and shipped deliveries, and imported events",
        "operationId": "getEpcisEvents",
        "tags": ["epcis"],
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": STRING, "description": text}
            for name, text in EPCIS_PARAMETERS.items()
        ],
        "responses": {
            "200": {
                "description": 'an EPCISQueryDocument; a Link header (rel="next") when more pages follow',
                "content": {"application/ld+json": {"schema": {"type": "object"}}},
            },
            "400": {"description": "an unknown or malformed query parameter (QueryParameterException)"},
        },
    }
