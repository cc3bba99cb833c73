"""Holds: the placeHold and releaseHold mutations (inputs, payloads with typed errors), and the hold queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import lots as lot_resolvers
from resolvers.holds import model, queries, release, service
from resolvers.holds.outcomes import (
    HoldErrorCode,
    HoldNotice,
    HoldProblem,
    HoldReason,
    HoldWarningCode,
    PlaceHoldOutcome,
    Propagation,
    ReleaseHoldOutcome,
    StockRelease,
)
from resolvers.paging import DEFAULT_PAGE
from schema.connection import Connection
from schema.enums import HoldStatus, LotDisposition
from schema.info import Info
from schema.lot import Hold, Lot

strawberry.enum(
    HoldReason,
    name="HoldReasonCode",
    description="Why a lot is put on hold; recorded as the hold's reason code in the QMS.",
)
strawberry.enum(
    Propagation,
    name="HoldPropagation",
    description="NONE: only the lots given; FORWARD: also every lot made from them, through the genealogy.",
)
strawberry.enum(HoldErrorCode, description="Why a hold command (or part of it) was not carried out.")
strawberry.enum(HoldWarningCode, description="Something about a hold command the caller should know.")
strawberry.enum(
    StockRelease,
    description="What became of the lot's stock on release: UNBLOCKED; KEPT_BLOCKED (another hold is active, or "
    "the QMS disposition is not RELEASED); PENDING (the WMS did not answer: a pending action).",
)
strawberry.enum(
    model.ActionKind,
    name="PendingActionKind",
    description="The step a pending action carries out: the WMS step of a command (BLOCK_STOCK, UNBLOCK_STOCK), or a "
    "whole command for one lot left by recovery after a crash (PLACE_HOLD, RELEASE_HOLD).",
)
strawberry.enum(
    model.ActionStatus,
    name="PendingActionStatus",
    description="PENDING: to be tried (again); DONE: carried out after a retry; FAILED: given up, needs a person; "
    "CLOSED: given up on by a person, with a reason.",
)

KEY_HELP = (
    "Chosen by the client, unique per intended command (e.g. a UUID). Repeating the request with the same key returns "
    "the first answer and never holds twice; the same key with another request is IDEMPOTENCY_KEY_REUSED."
)


@strawberry.input(description="Put lots on quality hold: in the QMS, and their stock blocked in the WMS.")
class PlaceHoldInput:
    lot_ids: list[strawberry.ID] = strawberry.field(description="1 to 500 lots.")
    reason_code: HoldReason
    idempotency_key: str = strawberry.field(description=KEY_HELP)
    comment: str | None = strawberry.field(default=None, description="Free text, at most 2,000 characters.")
    propagate: Propagation = strawberry.field(
        default=Propagation.NONE, description="FORWARD also holds every lot made from these."
    )


@strawberry.input(description="Release one quality hold.")
class ReleaseHoldInput:
    hold_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_HELP)
    comment: str | None = strawberry.field(default=None, description="Free text, at most 2,000 characters.")


@strawberry.type(description="A part of the command that was not carried out, and why.")
class HoldError:
    code: HoldErrorCode
    message: str
    lot_id: strawberry.ID | None
    hold_id: strawberry.ID | None
    source: str | None = strawberry.field(description="The system that refused or failed, when one did.")

    @classmethod
    def of(cls, p: HoldProblem) -> HoldError:
        return cls(
            code=p.code,
            message=p.message,
            lot_id=strawberry.ID(p.lot_id) if p.lot_id else None,
            hold_id=strawberry.ID(p.hold_id) if p.hold_id else None,
            source=p.source,
        )


@strawberry.type(description="Something the caller should know: a step still pending, stock kept blocked …")
class HoldWarning:
    code: HoldWarningCode
    message: str
    lot_id: strawberry.ID | None
    pending_action_id: strawberry.ID | None

    @classmethod
    def of(cls, n: HoldNotice) -> HoldWarning:
        return cls(
            code=n.code,
            message=n.message,
            lot_id=strawberry.ID(n.lot_id) if n.lot_id else None,
            pending_action_id=strawberry.ID(n.pending_action_id) if n.pending_action_id else None,
        )


@strawberry.type(
    description="A later step of a hold command (blocking or unblocking a lot's stock in the WMS) that failed at "
    "first: kept durably and retried with backoff until DONE, or FAILED after the configured number of attempts."
)
class PendingAction:
    id: strawberry.ID
    kind: model.ActionKind
    status: model.ActionStatus
    lot_id: strawberry.ID
    hold_id: strawberry.ID
    operation: str = strawberry.field(description="The command that made it: placeHold or releaseHold.")
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    outcome: str | None = strawberry.field(description="What the successful attempt did.")
    requested_by: str
    correlation_id: str
    created_at: datetime
    updated_at: datetime
    closed_by: str | None = strawberry.field(description="Who closed it, when a person did.")
    close_reason: str | None = strawberry.field(description="Why it was closed, in that person's words.")

    @strawberry.field(description="The lot whose stock the action concerns.")
    async def lot(self, info: Info) -> Lot:
        (ref,) = await lot_resolvers.lot_refs(info.context, [self.lot_id])
        return Lot.of(ref)

    @classmethod
    def of(cls, a: model.PendingAction) -> PendingAction:
        return cls(
            id=strawberry.ID(a.id),
            kind=a.kind,
            status=a.status,
            lot_id=strawberry.ID(a.lot_id),
            hold_id=strawberry.ID(a.hold_id),
            operation=a.operation,
            attempts=a.attempts,
            max_attempts=a.max_attempts,
            next_attempt_at=a.next_attempt_at,
            last_error=a.last_error,
            outcome=a.outcome,
            requested_by=a.requested_by,
            correlation_id=a.correlation_id,
            created_at=a.created_at,
            updated_at=a.updated_at,
            closed_by=a.closed_by,
            close_reason=a.close_reason,
        )


@strawberry.type(
    description="The answer of placeHold. `complete` is true only when every lot is on hold in the QMS and its stock "
    "blocked in the WMS; otherwise `errors` and `warnings` say what is missing, and `pendingActions` what lotgraph "
    "is still doing about it."
)
class PlaceHoldPayload:
    holds: list[Hold] = strawberry.field(description="Holds this request created in the QMS.")
    propagated_lot_ids: list[strawberry.ID] = strawberry.field(
        description="Lots reached through the genealogy (propagate FORWARD)."
    )
    blocked_lot_ids: list[strawberry.ID] = strawberry.field(description="Lots whose stock the WMS has blocked.")
    pending_actions: list[PendingAction]
    errors: list[HoldError]
    warnings: list[HoldWarning]
    complete: bool
    replayed: bool = strawberry.field(
        description=(
            "True when this is the answer of an earlier request with this key: stored, or finished from its saga "
            "record after its process died."
        )
    )
    requested_by: str
    requested_at: datetime | None
    correlation_id: str
    lot_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field(
        description="Every lot this request holds: given or reached by propagation, with a new hold or one found "
        "for the same reason. Read live."
    )
    async def lots(self, info: Info) -> list[Lot]:
        return [Lot.of(ref) for ref in await lot_resolvers.lot_refs(info.context, list(self.lot_ids))]

    @classmethod
    def of(cls, o: PlaceHoldOutcome) -> PlaceHoldPayload:
        return cls(
            holds=[Hold.of(h) for h in o.holds],
            propagated_lot_ids=[strawberry.ID(i) for i in o.propagated_lot_ids],
            blocked_lot_ids=[strawberry.ID(i) for i in o.blocked_lot_ids],
            pending_actions=[PendingAction.of(a) for a in o.pending_actions],
            errors=[HoldError.of(e) for e in o.errors],
            warnings=[HoldWarning.of(w) for w in o.warnings],
            complete=o.complete,
            replayed=o.replayed,
            requested_by=o.requested_by,
            requested_at=o.requested_at,
            correlation_id=o.correlation_id,
            lot_ids=o.lot_ids,
        )


@strawberry.type(description="The answer of releaseHold.")
class ReleaseHoldPayload:
    hold: Hold | None = strawberry.field(description="The hold as the QMS recorded its release.")
    disposition: LotDisposition | None = strawberry.field(
        description="The lot's disposition in the QMS after the release (the QMS decides it)."
    )
    stock: StockRelease | None
    active_hold_ids: list[strawberry.ID] = strawberry.field(description="Other holds still active on the lot.")
    pending_actions: list[PendingAction]
    errors: list[HoldError]
    warnings: list[HoldWarning]
    complete: bool
    replayed: bool
    requested_by: str
    requested_at: datetime | None
    correlation_id: str

    @strawberry.field(description="The lot of the hold. Read live.")
    async def lot(self, info: Info) -> Lot | None:
        if self.hold is None:
            return None
        (ref,) = await lot_resolvers.lot_refs(info.context, [self.hold.lot_id])
        return Lot.of(ref)

    @classmethod
    def of(cls, o: ReleaseHoldOutcome) -> ReleaseHoldPayload:
        return cls(
            hold=Hold.of(o.hold) if o.hold else None,
            disposition=o.disposition,
            stock=o.stock,
            active_hold_ids=[strawberry.ID(i) for i in o.active_hold_ids],
            pending_actions=[PendingAction.of(a) for a in o.pending_actions],
            errors=[HoldError.of(e) for e in o.errors],
            warnings=[HoldWarning.of(w) for w in o.warnings],
            complete=o.complete,
            replayed=o.replayed,
            requested_by=o.requested_by,
            requested_at=o.requested_at,
            correlation_id=o.correlation_id,
        )


@strawberry.type
class HoldQuery:
    @strawberry.field(description="A quality hold by id; null when the QMS does not know it.")
    async def hold(self, info: Info, id: strawberry.ID) -> Hold | None:
        record = await queries.hold(info.context, id)
        return Hold.of(record) if record else None

    @strawberry.field(description="Quality holds in the QMS, filtered, in id order.")
    async def holds(
        self,
        info: Info,
        status: HoldStatus | None = None,
        lot_id: strawberry.ID | None = None,
        reason_code: Annotated[
            str | None, strawberry.argument(description="The QMS's reason code, e.g. SUPPLIER_NOTICE.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 500.")] = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[Hold]:
        page = await queries.holds(
            info.context, status=status, lot_id=lot_id, reason_code=reason_code, first=first, after=after
        )
        return Connection.of(page, Hold.of)

    @strawberry.field(
        description="Later steps of hold commands that did not succeed at first (newest first): PENDING ones are "
        "being retried, FAILED ones need a person, DONE ones completed after a retry.",
        deprecation_reason="Use pendingActionsConnection: paged, and filtered by status, lot and age.",
    )
    async def pending_actions(
        self,
        info: Info,
        status: list[model.ActionStatus] | None = None,
        first: Annotated[int, strawberry.argument(description="At most this many, 1 to 500.")] = 100,
    ) -> list[PendingAction]:
        actions = await queries.pending_actions(info.context, status, first)
        return [PendingAction.of(a) for a in actions]


@strawberry.type
class HoldMutation:
    @strawberry.mutation(
        description="Put lots on quality hold: the QMS records each hold, then the WMS blocks the lots' stock so it "
        "can no longer be allocated or shipped. Idempotent by `idempotencyKey`."
    )
    async def place_hold(self, info: Info, input: PlaceHoldInput) -> PlaceHoldPayload:
        request = service.PlaceHoldRequest(
            lot_ids=list(input.lot_ids),
            reason=input.reason_code,
            idempotency_key=input.idempotency_key,
            comment=input.comment,
            propagate=input.propagate,
        )
        return PlaceHoldPayload.of(await service.place_hold(info.context, request))

    @strawberry.mutation(
        description="Release a quality hold: the QMS releases it and decides the lot's disposition; the WMS unblocks "
        "the stock when no other hold is active and the lot is RELEASED. Idempotent by `idempotencyKey`."
    )
    async def release_hold(self, info: Info, input: ReleaseHoldInput) -> ReleaseHoldPayload:
        request = release.ReleaseHoldRequest(
            hold_id=input.hold_id, idempotency_key=input.idempotency_key, comment=input.comment
        )
        return ReleaseHoldPayload.of(await release.release_hold(info.context, request))
