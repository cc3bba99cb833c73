"""Dead letters: the webhooks lotgraph could not record, and their replay (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers.events import dead_letters
from schema.events import DomainEvent
from schema.info import Info

strawberry.enum(dead_letters.DeadLetterStatus, description="PENDING: not recorded yet; REPLAYED: recorded since.")
strawberry.enum(dead_letters.ReplayProblem, name="ReplayErrorCode", description="Why a dead letter was not replayed.")


@strawberry.type(description="A signed webhook lotgraph could not record as an event, kept with the reason.")
class DeadLetter:
    id: strawberry.ID
    source: str
    delivery_id: str | None = strawberry.field(description="The sender's Webhook-Id.")
    received_at: datetime
    reason: str = strawberry.field(description="Why it was not recorded.")
    body: str = strawberry.field(description="The body as received (UTF-8; undecodable bytes replaced).")
    status: dead_letters.DeadLetterStatus
    attempts: int = strawberry.field(description="Replays tried.")
    last_error: str | None = strawberry.field(description="Why the last replay failed.")
    replayed_at: datetime | None
    event_id: strawberry.ID | None = strawberry.field(description="The event it became, once replayed.")
    cursor: str | None

    @classmethod
    def of(cls, letter: dead_letters.DeadLetter) -> DeadLetter:
        return cls(
            id=strawberry.ID(letter.id),
            source=letter.source,
            delivery_id=letter.delivery_id,
            received_at=letter.received_at,
            reason=letter.reason,
            body=letter.body.decode("utf-8", errors="replace"),
            status=letter.status,
            attempts=letter.attempts,
            last_error=letter.last_error,
            replayed_at=letter.replayed_at,
            event_id=strawberry.ID(letter.event_id) if letter.event_id else None,
            cursor=letter.cursor,
        )


@strawberry.type(description="Why a dead letter was not replayed.")
class ReplayError:
    code: dead_letters.ReplayProblem
    message: str


@strawberry.type(description="The dead letter after the replay, the event it became, or why it did not.")
class ReplayDeadLetterPayload:
    dead_letter: DeadLetter | None
    event: DomainEvent | None
    error: ReplayError | None

    @classmethod
    def of(cls, replayed: dead_letters.Replayed) -> ReplayDeadLetterPayload:
        problem, event = replayed.problem, replayed.event
        return cls(
            dead_letter=DeadLetter.of(replayed.letter) if replayed.letter else None,
            event=DomainEvent.of(event) if event is not None else None,
            error=ReplayError(code=problem, message=replayed.message or "") if problem is not None else None,
        )


@strawberry.type
class DeadLetterQuery:
    @strawberry.field(description="Admin: webhooks that could not be recorded, oldest first.")
    async def dead_letters(
        self,
        info: Info,
        status: dead_letters.DeadLetterStatus | None = dead_letters.DeadLetterStatus.PENDING,
        source: str | None = None,
        first: Annotated[int, strawberry.argument(description="1 to 500.")] = 100,
        after: Annotated[str | None, strawberry.argument(description="The id of the last letter seen.")] = None,
    ) -> list[DeadLetter]:
        letters = await dead_letters.listed(info.context, status, source, first, after)
        return [DeadLetter.of(letter) for letter in letters]


@strawberry.type
class DeadLetterMutation:
    @strawberry.mutation(
        description="Admin: record a dead letter as an event, from its stored body or a corrected `body` (JSON). "
        "One still malformed stays PENDING with the new reason."
    )
    async def replay_dead_letter(
        self, info: Info, id: strawberry.ID, body: str | None = None
    ) -> ReplayDeadLetterPayload:
        replayed = await dead_letters.replay_one(info.context, str(id), body.encode() if body is not None else None)
        return ReplayDeadLetterPayload.of(replayed)

    @strawberry.mutation(description="Admin: replay up to `first` pending dead letters (of one source, if given).")
    async def replay_dead_letters(
        self, info: Info, source: str | None = None, first: int = 100
    ) -> list[ReplayDeadLetterPayload]:
        replayed = await dead_letters.replay_pending(info.context, source, first)
        return [ReplayDeadLetterPayload.of(r) for r in replayed]
