"""A Tryton database with the data set in it, built once per machine for each version, seed and size.

Initialising takes about 40 s and loading the data set about 10 s more; both results are cached as SQLite files
(see ``server.cache_dir``), keyed by the package versions and, for the data set, by seed, size and the loader's
own source (``dataset.py``), so a change to the loader builds afresh. On PostgreSQL (about two minutes to
initialise) the loaded database is cached as a ``pg_dump`` archive and restored into a fresh database, when the
PostgreSQL client tools are installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from plant.tryton import dataset, receipts
from plant.tryton.receipts import Receipt
from plant.tryton.server import TrytonServer, cache_dir, cache_key


def _loader_digest(receipt: Receipt | None) -> str:
    blob = Path(dataset.__file__ or "").read_bytes()
    if receipt is not None:  # a site that received another site's lots (plant/tryton/receipts.py)
        blob += Path(receipts.__file__ or "").read_bytes() + receipt.dumps().encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def prepare(server: TrytonServer, *, seed: int = 7, lots: int = 60, receipt: Receipt | None = None) -> dict[str, Any]:
    """Make ``server``'s database hold the data set (and ``receipt``'s lots received and consumed after it); answer
    its manifest (also kept as ``manifest.json``)."""
    manifest_file = server.home / "manifest.json"
    server.home.mkdir(parents=True, exist_ok=True)
    if not server.sqlite and manifest_file.exists():  # PostgreSQL keeps its data: loaded by an earlier run
        server.write_config()
        kept: dict[str, Any] = json.loads(manifest_file.read_text())
        return kept
    key = cache_key("data", str(seed), str(lots), _loader_digest(receipt))
    cached = cache_dir() / (f"data-{key}.sqlite" if server.sqlite else f"data-{key}.pgdump")
    cached_manifest = cached.with_name(f"{cached.name}.json") if not server.sqlite else cached.with_suffix(".json")
    if cached.exists() and cached_manifest.exists() and server.restore(cached):
        shutil.copyfile(cached_manifest, manifest_file)
        loaded: dict[str, Any] = json.loads(manifest_file.read_text())
        return loaded
    server.initialise()
    command = [sys.executable, "-m", "plant.tryton", "load", "--config", str(server.config_file)]
    command += ["--database", server.database, "--manifest", str(manifest_file), "--seed", str(seed)]
    command += ["--lots", str(lots)] + (["--receive", receipt.dumps()] if receipt is not None else [])
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"loading the Tryton data set failed:\n{result.stderr[-4000:]}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(manifest_file, cached_manifest)  # first: the data file appears last, and whole
    server.save(cached)
    manifest: dict[str, Any] = json.loads(manifest_file.read_text())
    return manifest
