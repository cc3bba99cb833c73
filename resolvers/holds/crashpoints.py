"""A test-only fault hook: named points between the upstream steps of the hold commands where a test can make the
gateway die at once, as a power cut would, to check that recovery leaves the systems of record agreeing.

Off unless ``LOTGRAPH_TEST_CRASH_AT`` is set in the environment (never in production), as ``<point>`` or
``<point>@<n>`` (the n-th time the point is reached, 1 by default). Reaching it sends the process SIGKILL: no
cleanup, no graceful shutdown, nothing flushed but what was written already.

Points: ``place:planned`` (saga written, no QMS command yet), ``place:qms`` (after each QMS hold answered),
``place:qms-done`` (all QMS holds answered, step not recorded), ``place:recorded`` (QMS step and WMS actions
recorded, no WMS command yet), ``place:wms`` (after each WMS block answered and recorded), ``place:wms-done``
(every block recorded, answer not stored), ``release:planned``, ``release:qms-done``, ``release:wms-done``.
"""

from __future__ import annotations

import os
import signal

ENV = "LOTGRAPH_TEST_CRASH_AT"

_reached: dict[str, int] = {}


def reached(point: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, nth = spec.partition("@")
    if name != point:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] == int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
