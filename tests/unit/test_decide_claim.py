"""The one rule every durable store answers a claim with (sources/store/claims.py): what the key
holds decides, the store only takes the key when the rule says it is free."""

import pytest

from sources.store.claims import decide_claim
from sources.store.records import Claim, ClaimState

NOW = 1_000.0


@pytest.mark.parametrize(
    ("found", "fingerprint", "answer"),
    [
        (None, "fp", None),  # nothing there: take it
        (("fp", "running", NOW - 1, None), "fp", None),  # a run whose lease ran out: take it over
        (("fp", "running", NOW + 5, None), "fp", Claim(ClaimState.IN_PROGRESS)),
        (("fp", "done", NOW - 1, '{"ok": true}'), "fp", Claim(ClaimState.DONE, result='{"ok": true}')),
        (("fp", "done", NOW + 5, '{"ok": true}'), "fp", Claim(ClaimState.DONE, result='{"ok": true}')),
        (("other", "running", NOW - 1, None), "fp", Claim(ClaimState.REUSED)),  # another request: never taken over
        (("other", "done", NOW - 1, "{}"), "fp", Claim(ClaimState.REUSED)),
    ],
)
def test_what_the_key_holds_decides_the_claim(
    found: tuple[str, str, float, str | None] | None, fingerprint: str, answer: Claim | None
) -> None:
    assert decide_claim(found, fingerprint, NOW) == answer


def test_a_lease_ending_now_has_run_out() -> None:
    assert decide_claim(("fp", "running", NOW, None), "fp", NOW) is None
