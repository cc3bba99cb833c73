"""The OpenAPI document of the QMS."""

from __future__ import annotations

from typing import Any

from plant.openapi import DATE, DATETIME, STRING, Spec, array, enum, filters, nullable, obj, ref

DISPOSITION = enum("PENDING", "RELEASED", "ON_HOLD", "REJECTED", "RECALLED", "EXPIRED")
HOLD_STATUS = enum("ACTIVE", "RELEASED", "CANCELLED")
DEVIATION_STATUS = enum("OPEN", "CLOSED")
SEVERITY = enum("MINOR", "MAJOR", "CRITICAL")

SCHEMAS = {
    "Certificate": obj({"id": STRING, "issued_at": DATETIME}, description="certificate of analysis"),
    "QualityLot": obj(
        {
            "lot_id": STRING,
            "product_id": STRING,
            "disposition": DISPOSITION,
            "disposition_at": DATETIME,
            "expiry_date": DATE,
            "coa": nullable(ref("Certificate")),
        }
    ),
    "Hold": obj(
        {
            "id": STRING,
            "lot_id": STRING,
            "status": HOLD_STATUS,
            "reason_code": STRING,
            "comment": STRING,
            "placed_by": STRING,
            "placed_at": DATETIME,
            "released_by": nullable(STRING),
            "released_at": nullable(DATETIME),
            "release_comment": nullable(STRING),
            "correlation_id": nullable(STRING),
        }
    ),
    "Deviation": obj(
        {
            "id": STRING,
            "lot_id": STRING,
            "status": DEVIATION_STATUS,
            "severity": SEVERITY,
            "title": STRING,
            "opened_at": DATETIME,
            "closed_at": nullable(DATETIME),
        }
    ),
    "LotQualityStatus": obj(
        {
            "lot_id": STRING,
            "quality": ref("QualityLot"),
            "active_holds": array(ref("Hold")),
            "open_deviations": array(ref("Deviation")),
        },
        description="a lot's quality record with its active holds and open deviations",
    ),
}

STATUS_NOTE = "optional query parameter 'status' filters by one status"


def build() -> dict[str, Any]:
    spec = Spec("lotgraph reference plant: QMS", "Lot dispositions, holds, deviations, certificates.", SCHEMAS)
    spec.batch_read("/lots", "QualityLot", [("ids", "lot ids")], "quality records of lots")
    spec.single_read("/lots/{id}", "QualityLot", "quality record of one lot")
    spec.search(
        "/lots/search",
        "QualityLot",
        filters({"product_id": STRING, "disposition": DISPOSITION}),
        "lots by product and disposition",
    )
    spec.command(
        "/lots/{id}/disposition",
        "decideLot",
        obj({"disposition": DISPOSITION, "decided_by": STRING}),
        ref("QualityLot"),
        "usage decision (409 HOLD_ACTIVE while a hold is active, unless ON_HOLD)",
        key_required=False,
    )
    spec.batch_read(
        "/holds",
        "Hold",
        [("ids", "hold ids"), ("lot_ids", f"holds of these lots (missing is then empty); {STATUS_NOTE}")],
        "holds by id or by lot",
    )
    spec.paths["/holds"]["get"]["parameters"].append(
        {"name": "status", "in": "query", "required": False, "schema": HOLD_STATUS}
    )
    spec.single_read("/holds/{id}", "Hold", "one hold")
    spec.search(
        "/holds/search",
        "Hold",
        filters({"status": HOLD_STATUS, "lot_id": STRING, "reason_code": STRING}),
        "holds, filtered",
    )
    spec.command(
        "/holds",
        "placeHold",
        obj(
            {"lot_id": STRING, "reason_code": STRING, "comment": STRING, "placed_by": STRING},
            optional=["comment"],
        ),
        ref("Hold"),
        "place a hold (404 LOT_NOT_FOUND); the lot's disposition becomes ON_HOLD",
        key_required=True,
        created=True,
    )
    spec.command(
        "/holds/{id}/release",
        "releaseHold",
        obj({"released_by": STRING, "comment": STRING}, optional=["comment"]),
        ref("Hold"),
        "release a hold (409 HOLD_NOT_ACTIVE); the last release restores the lot's disposition",
        key_required=True,
    )
    spec.batch_read(
        "/deviations",
        "Deviation",
        [("ids", "deviation ids"), ("lot_ids", f"deviations of these lots (missing is then empty); {STATUS_NOTE}")],
        "deviations by id or by lot",
    )
    spec.paths["/deviations"]["get"]["parameters"].append(
        {"name": "status", "in": "query", "required": False, "schema": DEVIATION_STATUS}
    )
    spec.single_read("/deviations/{id}", "Deviation", "one deviation")
    spec.batch_read(
        "/quality-status",
        "LotQualityStatus",
        [("lot_ids", "lot ids (a lot the QMS does not know is in missing)")],
        "per lot: quality record, active holds and open deviations, in one call",
        operation_id="listQualityStatus",
    )
    spec.command(
        "/deviations",
        "openDeviation",
        obj({"lot_id": STRING, "severity": SEVERITY, "title": STRING}),
        ref("Deviation"),
        "plant operation: open a deviation on a lot",
        key_required=False,
        created=True,
    )
    spec.command(
        "/deviations/{id}/close",
        "closeDeviation",
        obj({"closed_by": STRING}, optional=["closed_by"]),
        ref("Deviation"),
        "plant operation: close an open deviation (409 DEVIATION_NOT_OPEN)",
        key_required=False,
    )
    return spec.build()
