"""PNG plots of ``python -m bench all`` (matplotlib, from the bench extra): requests per second and CPU time per
request of each workload, one bar per contestant (lotgraph, Hive Gateway, the plain REST client, the Starlette
ceiling)."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.side_by_side import Measured


def bars(measured: Measured, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    figure, (rps_axes, cpu_axes) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / len(measured.names)
    for index, name in enumerate(measured.names):
        rps, cpu = [], []
        for title in measured.titles:
            got = measured.results.get((name, title))
            rps.append(statistics.mean(got.rps) if got and got.rps else 0.0)
            cpu.append(statistics.mean(got.cpu_ms) if got and got.cpu_ms else 0.0)
        positions = [i + index * width for i in range(len(measured.titles))]
        rps_axes.bar(positions, rps, width, label=name)
        cpu_axes.bar(positions, cpu, width, label=name)
    labels = [title.split(" with ")[0] for title in measured.titles]
    rps_axes.set_yscale("log")  # the ceiling answers 10 to 1,000 times as many
    for axes, label in ((rps_axes, "requests per second (log scale)"), (cpu_axes, "CPU ms per request")):
        axes.set_xticks([i + width * (len(measured.names) - 1) / 2 for i in range(len(labels))], labels, fontsize=8)
        axes.set_ylabel(label)
        axes.legend()
    figure.suptitle(
        f"lotgraph, the peer gateway, the REST client and the Starlette ceiling, plant at {measured.latency_ms} ms"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
