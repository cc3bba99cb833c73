"""The plain REST client of ``python -m bench all``: the lower bound of composition cost on this machine.

A hand-written Starlette app (``uvicorn --factory bench.rest_client:app``, ``BENCH_PLANT_URL`` the plant's base URL)
answering ``POST /rest/<workload>`` (the body: the workload's GraphQL variables) with the JSON lotgraph answers for
the same workload, made from the same upstream requests lotgraph makes: batched reads of the plant's contract
endpoints (``GET /<system>/<kind>?ids=a,b``, chunked at the contract's limit), the independent ones in parallel,
through one aiohttp session. No GraphQL, no loaders, no resilience policy, no validation of the records beyond what
the assembly needs.

Readiness reads the contract's combined reads as lotgraph does (``/erp/shipments/expanded``, ``/qms/quality-status``),
parses the records with the source contract's parsers and decides with lotgraph's own rules
(``resolvers.readiness.rules.evaluate``, a pure function): a hand-written client would implement the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from resolvers.readiness.model import Blocker, ReadinessInputs
from resolvers.readiness.rules import evaluate
from sources.contract import bulk, parse
from sources.http import BATCH_LIMIT
from sources.records import WarehouseStage

Json = Any


class Plant:
    """Batched reads of the plant's four systems through one aiohttp session."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base, self.session = base, session

    async def _get(self, path: str, params: dict[str, str]) -> list[Json]:
        async with self.session.get(f"{self.base}{path}", params=params) as response:
            response.raise_for_status()
            items: list[Json] = (await response.json(loads=json.loads))["items"]
            return items

    async def batch(self, path: str, ids: Iterable[str], param: str = "ids", **extra: str) -> list[Json]:
        unique = list(dict.fromkeys(ids))
        if not unique:
            return []
        chunks = [unique[i : i + BATCH_LIMIT] for i in range(0, len(unique), BATCH_LIMIT)]
        found = await asyncio.gather(*(self._get(path, {param: ",".join(c), **extra}) for c in chunks))
        return [item for part in found for item in part]


def _by(items: list[Json], key: str = "id") -> dict[str, Json]:
    return {item[key]: item for item in items}


async def lot(plant: Plant, variables: Json) -> Json:
    found = await plant.batch("/mes/lots", [variables["id"]])
    if not found:
        return {"lot": None}
    f = found[0]
    keys = ("id", "kind", "quantity", "uom", "producedAt", "plant", "workOrder", "supplier")
    produced = datetime.fromisoformat(f["produced_at"]).isoformat() if f["produced_at"] else None
    values = (f["id"], f["kind"], f["quantity"], f["uom"], produced, f["plant"], f["work_order_id"])
    return {"lot": dict(zip(keys, (*values, f.get("supplier")), strict=True))}


def _lot_ids(shipments: Iterable[Json]) -> list[str]:
    return list(dict.fromkeys(a["lot_id"] for s in shipments for line in s["lines"] for a in line["lots"]))


async def shipment(plant: Plant, variables: Json) -> Json:
    found = await plant.batch("/erp/shipments", [variables["id"]])
    if not found:
        return {"shipment": None}
    s = found[0]
    lot_ids = _lot_ids(found)
    orders, quality, stock = await asyncio.gather(
        plant.batch("/erp/orders", [s["order_id"]]),
        plant.batch("/qms/lots", lot_ids),
        plant.batch("/wms/stock", lot_ids, "lot_ids"),
    )
    dispositions = {q["lot_id"]: q["disposition"] for q in quality}
    places: dict[str, list[Json]] = {}
    for row in stock:
        places.setdefault(row["lot_id"], []).append(
            {"location": row["location"], "quantity": row["quantity"], "status": row["status"]}
        )
    o = _by(orders).get(s["order_id"])
    order = o and {
        "id": o["id"],
        "status": o["status"],
        "creditBlock": o["credit_block"],
        "deliveryBlock": o["delivery_block"],
    }
    lines = [
        {
            "lineNo": line["line_no"],
            "quantity": line["quantity"],
            "lots": [
                {"id": a["lot_id"], "disposition": dispositions.get(a["lot_id"]), "stock": places.get(a["lot_id"], [])}
                for a in line["lots"]
            ],
        }
        for line in s["lines"]
    ]
    return {
        "shipment": {"id": s["id"], "status": s["status"], "shipDate": s["ship_date"], "order": order, "lines": lines}
    }


async def shipments(plant: Plant, variables: Json) -> Json:
    found = _by(await plant.batch("/erp/shipments", variables["ids"]))
    listed = [found[i] for i in dict.fromkeys(variables["ids"]) if i in found]
    orders, quality = await asyncio.gather(
        plant.batch("/erp/orders", [s["order_id"] for s in listed]), plant.batch("/qms/lots", _lot_ids(listed))
    )
    by_order = _by(orders)
    dispositions = {q["lot_id"]: q["disposition"] for q in quality}
    edges = []
    for s in listed:
        o = by_order.get(s["order_id"])
        lines = [
            {
                "lineNo": line["line_no"],
                "lots": [{"id": a["lot_id"], "disposition": dispositions.get(a["lot_id"])} for a in line["lots"]],
            }
            for line in s["lines"]
        ]
        node = {"id": s["id"], "status": s["status"], "order": o and {"id": o["id"], "status": o["status"]}}
        edges.append({"node": {**node, "lines": lines}})
    return {"shipments": {"edges": edges}}


def _blocker(b: Blocker) -> Json:
    since = b.since.isoformat() if b.since else None
    fields = (b.code.value, b.source, b.message, b.lot_id, b.order_id, b.line_no, since)
    return dict(zip(("code", "source", "message", "lotId", "orderId", "lineNo", "since"), fields, strict=True))


async def readiness(plant: Plant, variables: Json) -> Json:
    """The requests lotgraph makes (the shipment expanded with its order, customer and products, beside its
    warehouse progress; then the quality status of its lots), parsed and decided with lotgraph's rules."""
    shipment_id = variables["id"]
    expanded, progress = await asyncio.gather(
        plant.batch("/erp/shipments/expanded", [shipment_id]), plant.batch("/wms/shipments", [shipment_id])
    )
    if not expanded:
        return {"shipmentReadiness": None}
    x = bulk.expanded_shipment(expanded[0])  # the reader lotgraph's ERP adapter uses
    s = x.shipment
    status = [parse.Fields(item) for item in await plant.batch("/qms/quality-status", s.lot_ids, "lot_ids")]
    evaluated_at = datetime.now(UTC)
    decision = evaluate(
        ReadinessInputs(
            shipment=s,
            order=x.order,
            products={p.id: p for p in x.products},
            customer=x.customer,
            quality={f.text("lot_id"): parse.quality_lot(f.one("quality")) for f in status},
            holds={f.text("lot_id"): [parse.hold(parse.Fields(h)) for h in f.array("active_holds")] for f in status},
            deviations={
                f.text("lot_id"): [parse.deviation(parse.Fields(d)) for d in f.array("open_deviations")] for f in status
            },
            progress=next(iter(parse.parse_all("wms", progress, parse.shipment_progress)), None),
            today=evaluated_at.date(),
            required_stage=WarehouseStage.STAGED,
        )
    )
    answer = {
        "shipmentId": shipment_id,
        "status": decision.status.value,
        "ready": decision.status.value == "READY",
        "evaluatedAt": evaluated_at.isoformat(),
        "blockers": [_blocker(b) for b in decision.blockers],
        "checks": [{"name": c.name, "source": c.source, "status": c.status.value, "detail": c.detail} for c in
                   decision.checks],
    }  # fmt: skip
    return {"shipmentReadiness": answer}


HANDLERS: dict[str, Callable[[Plant, Json], Awaitable[Json]]] = {
    "lot": lot,
    "shipment": shipment,
    "shipments": shipments,
    "readiness": readiness,
}


def app() -> Starlette:
    base = os.environ["BENCH_PLANT_URL"].rstrip("/")
    state: dict[str, Plant] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=5)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
            state["plant"] = Plant(base, session)
            yield

    async def answer(request: Request) -> Response:
        handler = HANDLERS.get(request.path_params["workload"])
        if handler is None:
            return Response(b'{"errors":[{"message":"no such workload"}]}', 404, media_type="application/json")
        data = await handler(state["plant"], json.loads(await request.body()))
        return Response(json.dumps({"data": data}, separators=(",", ":")), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    routes = [Route("/rest/{workload}", answer, methods=["POST"]), Route("/healthz", healthz)]
    return Starlette(routes=routes, lifespan=lifespan)
