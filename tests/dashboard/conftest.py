"""Fixtures of the dashboard tests: the reference plant and the gateway as real processes, and Debian's Chromium
driven by Playwright (``playwright install`` cannot download a browser here; ``scripts/test`` installs Chromium).

Screenshots go to ``artifacts/dashboard/`` (gitignored), one per test and viewport, to look at after a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from playwright.async_api import BrowserContext, Page, ViewportSize, async_playwright

from bench import launch
from bench.launch import Launched

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = ViewportSize(width=1280, height=800)
TABLET = ViewportSize(width=768, height=1024)
SOURCES = ("erp", "qms", "mes", "wms")
WEBHOOK_SECRET = "dashboard-tests-webhook-secret"
# Authentication (JWT bearer): the gateway checks HS256 tokens with this secret once it authenticates; until then
# the token is sent and ignored, and every test passes the same way.
AUTH_SECRET = "dashboard-tests-auth-secret-0123456789"
TOKEN = jwt.encode(
    {"sub": "dashboard-test", "roles": ["viewer", "quality"], "iat": int(time.time()), "exp": int(time.time()) + 3600},
    AUTH_SECRET,
    algorithm="HS256",
)


async def until(condition: Callable[[], Awaitable[bool]], *, deadline: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``deadline`` seconds naming ``what``."""
    end = time.monotonic() + deadline
    while not await condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"the dashboard tests need Chromium at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium); scripts/test does it when run as root",
            pytrace=False,
        )
    return CHROMIUM


@dataclass
class Gateway:
    """``lotgraph serve`` on a fixed port, so that it can be killed and started again where the page expects it."""

    port: int
    env: dict[str, str]
    process: Launched | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        log = Path(self.env["LOTGRAPH_DATA_DIR"]).parent / f"gateway-{len(self.logs)}.log"
        self.logs.append(log)
        self.process = await launch.started(launch.gateway, self.env, log=log, port=self.port)

    async def kill(self) -> None:
        """SIGKILL: no graceful close of the WebSockets, as when a machine or a container dies."""
        assert self.process is not None
        await self.process.astop(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.astop()


@dataclass
class Stack:
    plant_url: str
    gateway: Gateway
    manifest: dict[str, Any]
    client: httpx.AsyncClient

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, correlation_id: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        body = {"query": query, "variables": variables or {}}
        response = await self.client.post(f"{self.gateway.url}/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    async def place_hold(self, lot_id: str, *, correlation_id: str, comment: str = "browser test") -> str:
        data = await self.graphql(
            "mutation($input: PlaceHoldInput!) { placeHold(input: $input) { complete holds { id lotId } "
            "errors { code message } } }",
            {
                "input": {
                    "lotIds": [lot_id],
                    "reasonCode": "SUSPECTED_CONTAMINATION",
                    "comment": comment,
                    "idempotencyKey": uuid.uuid4().hex,
                }
            },
            correlation_id=correlation_id,
        )
        payload = data["placeHold"]
        assert payload["complete"], payload
        (hold,) = payload["holds"]
        hold_id: str = hold["id"]
        return hold_id

    async def release_hold(self, hold_id: str, *, correlation_id: str) -> None:
        data = await self.graphql(
            "mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) { complete errors { code message } } }",
            {"input": {"holdId": hold_id, "idempotencyKey": uuid.uuid4().hex, "comment": "browser test done"}},
            correlation_id=correlation_id,
        )
        assert data["releaseHold"]["complete"], data


@pytest.fixture
async def stack(tmp_path: Path, own_plant: tuple[Path, dict[str, Any]]) -> AsyncIterator[Stack]:
    plant_dir, manifest = own_plant
    port = launch.free_port()
    webhooks = ["--webhook-url", f"http://127.0.0.1:{port}"]  # the plant sends its changes as signed webhooks
    secret = {"PLANT_WEBHOOK_SECRET": WEBHOOK_SECRET}
    plant = await launch.started(launch.plant, plant_dir, *webhooks, log=tmp_path / "plant.log", env=secret)
    plant_url = plant.url
    env = {
        **{f"LOTGRAPH_{name.upper()}_URL": f"{plant_url}/{name}" for name in SOURCES},
        **{f"LOTGRAPH_WEBHOOKS_{name.upper()}_SECRET": WEBHOOK_SECRET for name in SOURCES},
        "LOTGRAPH_AUTH_HS256_SECRET": AUTH_SECRET,
        "LOTGRAPH_DATA_DIR": str(tmp_path / "gateway"),
        "LOTGRAPH_LOG_LEVEL": "warning",
    }
    gateway = Gateway(port, env)
    try:
        await gateway.start()
        async with httpx.AsyncClient(timeout=30) as client:
            yield Stack(plant_url, gateway, manifest, client)
    finally:
        await gateway.stop()
        await plant.astop()


@pytest.fixture
async def browser(chromium: str, tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """A fresh Chromium profile per test, at 1280x800."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
        )
        try:
            yield context
        finally:
            await context.close()


@dataclass
class Dashboard:
    """The page, with what it logged: uncaught errors fail the test that reads them."""

    page: Page
    name: str
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    async def open(self, base_url: str, query: str = "", *, signed_in: bool = True) -> None:
        """The page; ``signed_in``: through a link that carries the test token (``#token=``)."""
        await self.page.goto(f"{base_url}/dashboard/{query}" + (f"#token={TOKEN}" if signed_in else ""))
        await self.live()

    async def live(self, timeout_ms: float = 30_000) -> None:
        await self.page.locator('#link[data-state="open"]').wait_for(timeout=timeout_ms)

    async def screenshot(self, label: str, viewport: ViewportSize = DESKTOP) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.set_viewport_size(viewport)
        path = ARTIFACTS / f"{self.name}-{label}-{viewport['width']}x{viewport['height']}.png"
        await self.page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000, f"{path} looks empty"
        return path


@pytest.fixture
async def dashboard(browser: BrowserContext, request: pytest.FixtureRequest) -> AsyncIterator[Dashboard]:
    page = await browser.new_page()
    board = Dashboard(page, request.node.name.removeprefix("test_"))
    page.on("pageerror", lambda exc: board.errors.append(str(exc)))
    page.on("console", lambda msg: board.console.append(f"{msg.type}: {msg.text}"))
    yield board
    with contextlib.suppress(Exception):
        await page.close()
