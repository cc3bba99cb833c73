"""Node.js for conformance tests: the npm packages of tests/npm (installed with ``npm ci`` when missing or stale)
and running a script of that folder. Other people's test suites and clients, run against our live gateway."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NPM_DIR = Path(__file__).resolve().parents[1] / "npm"
INSTALL_HINT = (
    "Node.js 20+ and npm are needed for the conformance tests (graphql-http, graphql-ws, graphql-sse, Apollo "
    "Federation run from tests/npm). Install them, e.g. on Debian: apt-get install -y nodejs npm"
)


def ensure_node_modules() -> Path:
    """``npm ci`` in tests/npm unless its node_modules matches package-lock.json already. Fails, never skips."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` not found. {INSTALL_HINT}", pytrace=False)
    lock = NPM_DIR / "package-lock.json"
    installed = NPM_DIR / "node_modules" / ".package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NPM_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {NPM_DIR} failed:\n{done.stderr[-4000:]}", pytrace=False)
    return NPM_DIR


def run_node(script: str, *args: str, timeout: float = 60.0) -> Any:
    """Run ``node tests/npm/<script> args…`` and return the JSON it prints last on standard output."""
    done = subprocess.run(
        ["node", script, *args], cwd=NPM_DIR, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"node {script} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"node {script} printed nothing:\n{done.stderr[-4000:]}"
    return json.loads(lines[-1])
