"""The operator's tools for holds: pending actions paged and filtered, retry or close one (audited), and the hold
history of a lot or a hold, as a connection or as CSV."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from resolvers.holds import model, operator, queries
from resolvers.holds.history import HistoryEntry, HistoryKind
from resolvers.holds.model import ActionStatus
from resolvers.paging import DEFAULT_PAGE
from schema.connection import Connection
from schema.holds import PendingAction
from schema.info import Info

strawberry.enum(
    HistoryKind,
    name="HoldHistoryKind",
    description="What happened: a hold placed or released (the QMS confirmed), stock blocked or unblocked (the WMS "
    "confirmed), or a pending action's change (PENDING, DONE, FAILED, and a person's RETRIED or CLOSED).",
)


@strawberry.enum(description="Why a retry or close of a pending action was not done.")
class PendingActionErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    ACTION_NOT_FOUND = "ACTION_NOT_FOUND"
    ACTION_NOT_OPEN = "ACTION_NOT_OPEN"


@strawberry.type(description="One entry of the hold history (audit trail) of a lot or a hold.")
class HoldHistoryEntry:
    at: datetime = strawberry.field(description="When the system named confirmed it.")
    kind: HistoryKind
    lot_id: strawberry.ID
    hold_id: strawberry.ID | None
    actor: str | None = strawberry.field(description="Who placed, released, requested, retried or closed.")
    system: str = strawberry.field(description="The system that confirmed: qms, wms, or lotgraph.")
    correlation_id: str | None
    detail: str

    @classmethod
    def of(cls, e: HistoryEntry) -> HoldHistoryEntry:
        return cls(
            at=e.at,
            kind=e.kind,
            lot_id=strawberry.ID(e.lot_id),
            hold_id=strawberry.ID(e.hold_id) if e.hold_id else None,
            actor=e.actor,
            system=e.system,
            correlation_id=e.correlation_id,
            detail=e.detail,
        )


@strawberry.input(description="Close a pending action: it is never tried again.")
class ClosePendingActionInput:
    id: strawberry.ID
    reason: str = strawberry.field(description="Why, for the audit trail; 1 to 2,000 characters.")


@strawberry.input(description="Try a PENDING or FAILED pending action again now, with a fresh budget of attempts.")
class RetryPendingActionInput:
    id: strawberry.ID


@strawberry.type(description="The answer of retryPendingAction and closePendingAction.")
class PendingActionChangePayload:
    action: PendingAction | None = strawberry.field(description="The action after the change; null on an error.")
    error_code: PendingActionErrorCode | None
    error_message: str | None

    @classmethod
    def of(cls, result: model.PendingAction | operator.OperatorProblem) -> PendingActionChangePayload:
        if isinstance(result, operator.OperatorProblem):
            return cls(action=None, error_code=PendingActionErrorCode(result.code), error_message=result.message)
        return cls(action=PendingAction.of(result), error_code=None, error_message=None)


SUBJECT = "Give lotId or holdId, not both."


@strawberry.type
class HoldOperationsQuery:
    @strawberry.field(
        description="Pending actions of hold commands, newest first, paged: PENDING ones are being retried, FAILED "
        "ones need a person, DONE ones completed after a retry, CLOSED ones a person gave up on."
    )
    async def pending_actions_connection(
        self,
        info: Info,
        status: list[ActionStatus] | None = None,
        lot_id: strawberry.ID | None = None,
        older_than_seconds: Annotated[
            float | None, strawberry.argument(description="Only actions created at least this long ago.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 500.")] = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[PendingAction]:
        page = await queries.pending_actions_page(
            info.context, statuses=status, lot_id=lot_id, older_than_seconds=older_than_seconds, first=first,
            after=after,
        )  # fmt: skip
        return Connection.of(page, PendingAction.of)

    @strawberry.field(description=f"The hold history (audit trail) of a lot or of a hold, oldest first. {SUBJECT}")
    async def hold_history(
        self,
        info: Info,
        lot_id: strawberry.ID | None = None,
        hold_id: strawberry.ID | None = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 500.")] = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[HoldHistoryEntry]:
        page = await queries.history(info.context, lot_id=lot_id, hold_id=hold_id, first=first, after=after)
        return Connection.of(page, HoldHistoryEntry.of)

    @strawberry.field(
        description="The hold history of a lot or of a hold as CSV (RFC 4180, a header row, at most 10,000 entries; "
        f"cells that a spreadsheet would read as a formula are prefixed with a quote). {SUBJECT}"
    )
    async def hold_history_csv(
        self, info: Info, lot_id: strawberry.ID | None = None, hold_id: strawberry.ID | None = None
    ) -> str:
        return await queries.history_csv(info.context, lot_id=lot_id, hold_id=hold_id)


@strawberry.type
class HoldOperationsMutation:
    @strawberry.mutation(description="Try a PENDING or FAILED pending action again now. Audited.")
    async def retry_pending_action(self, info: Info, input: RetryPendingActionInput) -> PendingActionChangePayload:
        return PendingActionChangePayload.of(await operator.retry_action(info.context, input.id))

    @strawberry.mutation(
        description="Close a PENDING or FAILED pending action with a reason: never tried again. Audited."
    )
    async def close_pending_action(self, info: Info, input: ClosePendingActionInput) -> PendingActionChangePayload:
        return PendingActionChangePayload.of(await operator.close_action(info.context, input.id, input.reason))
