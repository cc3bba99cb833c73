"""The peer gateway (Hive Gateway) over a running reference plant: install it, compose it, serve it.

- ``install()``: ``npm ci`` of ``bench/peer/package.json`` and its lockfile into a cache directory outside the
  repository (``~/.cache/lotgraph/bench-peer-<lockfile hash>``), once per lockfile.
- ``compose(workdir, plant_url)``: fetch the four systems' OpenAPI documents from the plant, declare their id-list
  parameters as arrays (``style: form, explode: false``: the same ``?ids=a,b`` on the wire, and what lets Mesh
  batch them; see bench/peer/README.md), and run ``mesh-compose`` over ``bench/peer/mesh.config.ts``.
- ``serve(workdir, log)``: ``hive-gateway supergraph`` on a free port, ready once it answers a query.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.harness import http_request
from bench.launch import LOOPBACK, Launched, free_port, launch

PEER_DIR = Path(__file__).resolve().parent / "peer"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lotgraph"
SYSTEMS = ("erp", "qms", "mes", "wms")
INSTALL_DEADLINE = 900.0


class PeerError(RuntimeError):
    """The peer could not be installed, composed or started; the message says what to do."""


def install(cache: Path = CACHE) -> Path:
    """The directory holding the peer's ``node_modules`` (installed now unless already there)."""
    npm = shutil.which("npm")
    if npm is None:
        raise PeerError("npm is not installed (Debian: apt-get install -y nodejs npm); the peer gateway needs it")
    lock = (PEER_DIR / "package-lock.json").read_bytes()
    home = cache / f"bench-peer-{hashlib.sha256(lock).hexdigest()[:12]}"
    if (home / "node_modules" / ".bin" / "hive-gateway").exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PEER_DIR / name, home / name)
    print(f"installing the peer gateway (npm ci) into {home} …", flush=True)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=INSTALL_DEADLINE,
        check=False,
    )
    if done.returncode != 0:
        raise PeerError(f"npm ci failed in {home}:\n{done.stderr[-3000:]}")
    return home


def arrays_of_ids(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every comma-separated id-list query parameter (``ids``, ``…_ids``) declared as an array."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                name = parameter.get("name", "")
                listed = name == "ids" or name.endswith("_ids")
                if parameter.get("in") == "query" and listed and parameter.get("schema", {}).get("type") == "string":
                    parameter["schema"] = {"type": "array", "items": {"type": "string"}}
                    parameter["style"], parameter["explode"] = "form", False
    return document


def compose(home: Path, plant_url: str) -> Path:
    """Compose the supergraph of the plant at ``plant_url`` in ``home``; returns the supergraph file."""
    for system in SYSTEMS:
        document = http_request(f"{plant_url}/{system}/openapi.json", timeout_s=30).json()
        (home / f"{system}.patched.json").write_text(json.dumps(arrays_of_ids(document)))
    shutil.copy(PEER_DIR / "mesh.config.ts", home / "mesh.config.ts")
    supergraph = home / "supergraph.graphql"
    done = subprocess.run(
        [str(home / "node_modules" / ".bin" / "mesh-compose"), "-o", supergraph.name],
        cwd=home,
        env={**os.environ, "PLANT_URL": plant_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not supergraph.exists():
        raise PeerError(f"mesh-compose failed in {home}:\n{(done.stdout + done.stderr)[-3000:]}")
    return supergraph


def serve(home: Path, supergraph: Path, log: Path) -> Launched:
    """Hive Gateway serving ``supergraph`` on a free port of 127.0.0.1 (one process, as lotgraph)."""
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [
        str(home / "node_modules" / ".bin" / "hive-gateway"),
        "supergraph",
        str(supergraph),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--fork",
        "1",
    ]
    return launch(command, log=log, ready=lambda: _answers(f"{url}/graphql"), url=url, deadline=120.0)


def _answers(url: str) -> bool:
    try:
        body = json.dumps({"query": "{ __typename }"}).encode()
        answer = http_request(url, method="POST", body=body, headers={"Content-Type": "application/json"})
    except (OSError, http.client.HTTPException):  # not listening yet
        return False
    return answer.status == 200
