"""A plant that moves: everyday activity, simulated at a bounded rate through the plant's own APIs.

``lotgraph demo --activity`` runs it beside the demo so the dashboard has something to show and the event path
carries realistic traffic. Each step is one thing a person or a system in the plant would do, made with the same
HTTP calls a real client makes (docs/sources.md), so every change lands in the systems' outboxes and webhooks:

- quality: inspect a lot in inspection (PENDING → RELEASED, now and then REJECTED), send a released lot back for a
  retest, put a lot on hold (QMS hold, then the WMS blocks its stock) and release it again later, open and close
  a deviation;
- warehouse and shipping: allocate a planned shipment, pick it (the ERP marks it IN_PROGRESS), stage it, and now
  and then load and ship it (the ERP marks it SHIPPED and completes the order once all its shipments are gone).

The MES has no write API in the contract, so no new lots are produced. Choices come from one seeded RNG: against
the same plant data the same seed makes the same steps. Ids in ``protected`` (the demo's ids to try, and the lots
of its shipments) are never touched, so what the demo banner suggests keeps answering as it says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("plant.activity")

MAX_RATE = 20.0
PEOPLE = ("qa.novak", "qa.haddad", "qc.ferreira")  # not among the generated plant's people
HOLD_REASONS = ("SUSPECTED_CONTAMINATION", "OUT_OF_SPEC", "CUSTOMER_COMPLAINT", "SUPPLIER_NOTICE", "OTHER")
HOLD_COMMENTS = (
    "particles found at line clearance",
    "assay below specification on retest",
    "customer reports off odour",
    "supplier notice on the raw material",
    "label mix-up suspected",
)
DEVIATION_TITLES = ("temperature excursion in storage", "seal check failed on sample", "late in-process check")
MAX_OWN_HOLDS = 4
MAX_OWN_DEVIATIONS = 3
CANDIDATES = 500
NEXT_STAGE = {"ALLOCATED": "PICKING", "PICKING": "PICKED", "PICKED": "STAGED", "STAGED": "LOADED", "LOADED": "SHIPPED"}


@dataclass(frozen=True, slots=True)
class Step:
    """What one step did: ``action`` on ``target``; ``outcome`` is ``done`` or the plant's refusal code."""

    action: str
    target: str
    outcome: str = "done"


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.code = code


class PlantActivity:
    """Steps of plant activity against the plant at ``client``'s base URL (the combined plant: /erp, /qms, /wms)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        seed: int = 7,
        protected: Protected | None = None,
        run_id: str | None = None,
    ) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.protected_shipments = set(protected.shipments) if protected else set()
        self.protected = set(protected.ids) if protected else set()
        self.protected |= self.protected_shipments
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.count = 0
        self.deviations: list[str] = []  # deviations this run opened and has not closed yet
        self.retested: list[str] = []  # lots this run sent back to inspection
        self.actions: list[tuple[int, Callable[[], Awaitable[Step | None]]]] = [
            (20, self.inspect),
            (6, self.retest),
            (8, self.allocate),
            (22, self.advance),
            (6, self.hold),
            (6, self.release),
            (3, self.open_deviation),
            (3, self.close_deviation),
        ]

    # --- driving -----------------------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Protect the orders and lots of protected shipments too."""
        for chunk in _chunks(sorted(self.protected_shipments), 500):
            found = await self._get("/erp/shipments", ids=",".join(chunk))
            for s in found["items"]:
                self.protected.add(s["order_id"])
                self.protected.update(lot["lot_id"] for line in s["lines"] for lot in line["lots"])

    async def step(self) -> Step | None:
        """One action chosen by weight; when it finds nothing to do, up to two others. None: nothing to do."""
        weights = [w for w, _ in self.actions]
        for _ in range(3):
            (action,) = self.rng.choices([a for _, a in self.actions], weights=weights)
            try:
                done = await action()
            except Refused as exc:
                return Step(action.__name__, "", exc.code)
            if done is not None:
                return done
        return None

    async def run(self, rate: float) -> None:
        """Steps at ``rate`` per second at most, until cancelled. A plant that does not answer is waited for."""
        interval = 1.0 / check_rate(rate)
        with contextlib.suppress(httpx.HTTPError, ValueError):
            await self.prepare()
        while True:
            try:
                done = await self.step()
            except (httpx.HTTPError, ValueError) as exc:  # unreachable, or not JSON (the garbage fault)
                log.debug("plant activity: the plant did not answer: %s", exc)
                done = None
            if done is not None:
                log.debug("plant activity: %s %s (%s)", done.action, done.target, done.outcome)
            await asyncio.sleep(interval)

    # --- quality -----------------------------------------------------------------------------------------------

    async def inspect(self) -> Step | None:
        lot = await self._pick_lot("PENDING")
        if lot is None:
            return None
        disposition = "REJECTED" if self.rng.random() < 0.1 else "RELEASED"
        await self._post(f"/qms/lots/{lot}/disposition", {"disposition": disposition, "decided_by": self._person()})
        if lot in self.retested:
            self.retested.remove(lot)
        return Step("inspect", lot, disposition)

    async def retest(self) -> Step | None:
        if len(self.retested) >= 3:
            return None
        lot = await self._pick_lot("RELEASED")
        if lot is None:
            return None
        await self._post(f"/qms/lots/{lot}/disposition", {"disposition": "PENDING", "decided_by": self._person()})
        self.retested.append(lot)
        return Step("retest", lot)

    async def hold(self) -> Step | None:
        active = await self._own_holds()
        if len(active) >= MAX_OWN_HOLDS:
            return None
        lot = await self._pick_shipped_lot() if self.rng.random() < 0.5 else await self._pick_lot("RELEASED")
        if lot is None:
            return None
        i = self.rng.randrange(len(HOLD_REASONS))
        body = {"lot_id": lot, "reason_code": HOLD_REASONS[i], "comment": HOLD_COMMENTS[i], "placed_by": self._person()}
        hold = await self._post("/qms/holds", body, key=True)
        await self._post(
            "/wms/stock/block", {"lot_id": lot, "reason": "quality hold", "reference": hold["id"]}, key=True
        )
        return Step("hold", lot, hold["id"])

    async def release(self) -> Step | None:
        active = await self._own_holds()
        if not active:
            return None
        hold = self.rng.choice(active)
        body = {"released_by": self._person(), "comment": "investigation closed, lot conforms"}
        await self._post(f"/qms/holds/{hold['id']}/release", body, key=True)
        lot = await self._get(f"/qms/lots/{hold['lot_id']}")
        if lot["disposition"] == "RELEASED":
            await self._post("/wms/stock/unblock", {"lot_id": hold["lot_id"], "reference": hold["id"]}, key=True)
        return Step("release", hold["lot_id"], hold["id"])

    async def open_deviation(self) -> Step | None:
        if len(self.deviations) >= MAX_OWN_DEVIATIONS:
            return None
        lot = await self._pick_lot("RELEASED")
        if lot is None:
            return None
        body = {"lot_id": lot, "severity": self.rng.choice(("MINOR", "MINOR", "MAJOR")), "title": ""}
        body["title"] = self.rng.choice(DEVIATION_TITLES)
        deviation = await self._post("/qms/deviations", body)
        self.deviations.append(deviation["id"])
        return Step("open_deviation", lot, deviation["id"])

    async def close_deviation(self) -> Step | None:
        if not self.deviations:
            return None
        deviation = self.deviations.pop(self.rng.randrange(len(self.deviations)))
        await self._post(f"/qms/deviations/{deviation}/close", {"closed_by": self._person()})
        return Step("close_deviation", deviation)

    # --- warehouse and shipping --------------------------------------------------------------------------------

    async def allocate(self) -> Step | None:
        planned = await self._open_shipments(["PLANNED"])
        if not planned:
            return None
        progress = await self._get("/wms/shipments", ids=",".join(s["id"] for s in planned))
        new = [s for s in planned if s["id"] in set(progress["missing"])]
        if not new:
            return None
        shipment = self.rng.choice(new)
        for line in shipment["lines"]:
            for lot in line["lots"]:
                body = {
                    "shipment_id": shipment["id"],
                    "line_no": line["line_no"],
                    "lot_id": lot["lot_id"],
                    "quantity": lot["quantity"],
                }
                await self._post("/wms/allocations", body)
        return Step("allocate", shipment["id"])

    async def advance(self) -> Step | None:
        """The next warehouse stage of a shipment in progress; loading and shipping only now and then."""
        stages = ["ALLOCATED", "PICKING", "PICKED"] + (["STAGED", "LOADED"] if self.rng.random() < 0.25 else [])
        candidates: list[dict[str, Any]] = []
        for stage in stages:
            found = await self._post("/wms/shipments/search", {"stage": stage, "limit": CANDIDATES})
            candidates += [s for s in found["items"] if s["shipment_id"] not in self.protected]
        if not candidates:
            return None
        progress = self.rng.choice(candidates)
        shipment_id, stage = progress["shipment_id"], NEXT_STAGE[progress["stage"]]
        shipment = await self._get(f"/erp/shipments/{shipment_id}")
        if shipment["status"] not in ("PLANNED", "IN_PROGRESS") or shipment["order_id"] in self.protected:
            return None
        if stage == "PICKING" and shipment["status"] == "PLANNED":
            await self._post(f"/erp/shipments/{shipment_id}/status", {"status": "IN_PROGRESS"})
        await self._post(f"/wms/shipments/{shipment_id}/stage", {"stage": stage})
        if stage == "SHIPPED":
            await self._post(f"/erp/shipments/{shipment_id}/status", {"status": "SHIPPED"})
            await self._complete_order(shipment["order_id"])
        return Step("advance", shipment_id, stage)

    async def _complete_order(self, order_id: str) -> None:
        shipments = await self._get("/erp/shipments", order_ids=order_id)
        if all(s["status"] in ("SHIPPED", "CANCELLED") for s in shipments["items"]):
            await self._post(f"/erp/orders/{order_id}/status", {"status": "COMPLETED"})

    # --- reading the plant ---------------------------------------------------------------------------------------

    async def _pick_lot(self, disposition: str) -> str | None:
        found = await self._post("/qms/lots/search", {"disposition": disposition, "limit": CANDIDATES})
        lots = [lot["lot_id"] for lot in found["items"] if lot["lot_id"] not in self.protected]
        return self.rng.choice(lots) if lots else None

    async def _pick_shipped_lot(self) -> str | None:
        """A released lot on an open shipment: a hold on it shows on the shipment's readiness."""
        lots = sorted(
            {
                lot["lot_id"]
                for s in await self._open_shipments(["PLANNED", "IN_PROGRESS"])
                for line in s["lines"]
                for lot in line["lots"]
            }
            - self.protected
        )
        if not lots:
            return None
        quality = await self._get("/qms/lots", ids=",".join(lots[:500]))
        released = sorted(q["lot_id"] for q in quality["items"] if q["disposition"] == "RELEASED")
        return self.rng.choice(released) if released else None

    async def _open_shipments(self, statuses: list[str]) -> list[dict[str, Any]]:
        found = await self._post("/erp/shipments/search", {"status": statuses, "limit": CANDIDATES})
        return [s for s in found["items"] if s["id"] not in self.protected and s["order_id"] not in self.protected]

    async def _own_holds(self) -> list[dict[str, Any]]:
        found = await self._post("/qms/holds/search", {"status": "ACTIVE", "limit": CANDIDATES})
        return [h for h in found["items"] if h["placed_by"] in PEOPLE and h["comment"] in HOLD_COMMENTS]

    def _person(self) -> str:
        return self.rng.choice(PEOPLE)

    # --- HTTP ----------------------------------------------------------------------------------------------------

    def _headers(self, key: bool) -> dict[str, str]:
        self.count += 1
        headers = {"X-Correlation-ID": f"activity-{self.run_id}-{self.count}"}
        if key:
            headers["Idempotency-Key"] = f"activity-{self.run_id}-{self.count}"
        return headers

    async def _get(self, path: str, **params: str) -> Any:
        response = await self.client.get(path, params=params, headers=self._headers(False))
        return _answer(response)

    async def _post(self, path: str, body: dict[str, Any], *, key: bool = False) -> Any:
        response = await self.client.post(path, json=body, headers=self._headers(key))
        return _answer(response)


def _answer(response: httpx.Response) -> Any:
    if response.status_code in (400, 404, 409):
        code = response.json().get("error", {}).get("code", "REFUSED")
        raise Refused(response.status_code, code)
    response.raise_for_status()
    return response.json()


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def check_rate(rate: float) -> float:
    if not 0 < rate <= MAX_RATE:
        raise ValueError(f"the activity rate must be above 0 and at most {MAX_RATE:g} steps per second, got {rate:g}")
    return rate


@dataclass(frozen=True, slots=True)
class Protected:
    """Ids the activity leaves alone: ``shipments`` (with their orders and lots) and any other ``ids``."""

    shipments: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()

    @classmethod
    def of_manifest(cls, manifest: dict[str, Any]) -> Protected:
        """The ids the demo suggests trying (the manifest's ``demo`` section)."""
        demo = {key: value for key, value in manifest.get("demo", {}).items() if isinstance(value, str)}
        shipments = frozenset(value for key, value in demo.items() if "shipment" in key)
        return cls(shipments=shipments, ids=frozenset(demo.values()) - shipments)


class WithActivity:
    """The plant app, plus the activity simulator running from its startup to its shutdown (ASGI lifespan)."""

    def __init__(self, app: ASGIApp, *, base_url: str, rate: float, seed: int, protected: Protected) -> None:
        self.app = app
        self.base_url = base_url
        self.rate = check_rate(rate)
        self.seed = seed
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        task: asyncio.Task[None] | None = None

        async def simulate() -> None:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
                activity = PlantActivity(client, seed=self.seed, protected=self.protected)
                log.info("plant activity: about %g steps per second", self.rate)
                await activity.run(self.rate)

        async def send_and_start(message: Message) -> None:
            nonlocal task
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                task = asyncio.create_task(simulate())

        async def receive_and_stop() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            return message

        await self.app(scope, receive_and_stop, send_and_start)
