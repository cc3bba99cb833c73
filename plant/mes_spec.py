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
            }
        ),
        "GenealogyEdge": obj(
            {
                "input_lot_id": STRING,
                "output_lot_id": STRING,
                "quantity": {**NUMBER, "description": "quantity of the input consumed"},
                "uom": STRING,
                "work_order_id": STRING,
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
    return spec.build()
