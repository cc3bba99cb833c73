"""What a new user copies from the README and the demo's banner works as printed against a fresh `lotgraph demo`:
every GraphQL example of the README and docs/ says something (no errors, no empty answer; run with the token of the
demo's GraphiQL link, as a reader pasting them would), and the printed `lotgraph token` commands mint tokens the
gateway takes. One demo for the module (it takes most of the time)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import OperationDefinitionNode, parse

from bench import launch
from bench.launch import Demo
from tests.e2e.markdown_examples import REPO, emptiness, examples

IN_THE_DEMOS_LOOP = pytest.mark.asyncio(loop_scope="module")
MAX_NOT_RUN = 2


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    async with launch.running(launch.demo, tmp_path_factory.mktemp("first-hour") / "demo") as running:
        yield running


def _operation(text: str) -> str:
    (definition,) = parse(text).definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition.operation.value


async def _first_event(client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    """A subscription over SSE (graphql-sse, distinct connections): its first result."""
    async with client.stream(
        "POST", "/graphql", json={"query": text}, headers={"Accept": "text/event-stream"}
    ) as response:
        assert response.status_code == 200, await response.aread()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event == "next":
                answer: dict[str, Any] = json.loads(line.removeprefix("data:"))
                return answer
    raise AssertionError("the subscription completed without a result")


async def _run(client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    if _operation(text) == "subscription":
        return await asyncio.wait_for(_first_event(client, text), 20)
    response = await client.post("/graphql", json={"query": text})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _graphiql_token(demo: Demo) -> str:
    link = re.search(r"/graphql#token=(\S+)", demo.banner)
    assert link, demo.banner
    return link.group(1)


@IN_THE_DEMOS_LOOP
async def test_every_graphql_example_answers_against_the_demo(demo: Demo) -> None:
    found = examples()
    not_run = [example for example in found if example.not_run]
    assert len(found) >= 6, found
    assert len(not_run) <= MAX_NOT_RUN, f"too many examples marked not run: {[str(e) for e in not_run]}"
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {_graphiql_token(demo)}"}
    async with httpx.AsyncClient(base_url=demo.gateway, headers=headers, timeout=30) as client:
        for example in found:
            if example.not_run:
                continue
            answer = await _run(client, example.text)
            problems = [f"error: {e.get('message')}" for e in answer.get("errors", [])]
            problems += emptiness(answer.get("data"))
            if problems:
                failures.append(f"{example}: {'; '.join(problems)}")
    assert not failures, "\n".join(failures)


async def _shell(command: str, cwd: Path) -> str:
    """``command`` as a user types it into a shell in ``cwd``; its standard output."""
    process = await asyncio.create_subprocess_shell(
        command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=os.environ.copy()
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, f"{command}: {err.decode()}"
    return out.decode().strip()


async def _roles_taken(demo: Demo, token: str) -> bool:
    """The gateway takes ``token`` and it carries the quality role: a quality read answers."""
    async with httpx.AsyncClient(base_url=demo.gateway, timeout=10) as client:
        body = {"query": "{ lots(first: 1) { totalCount } }"}
        answer = (await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})).json()
    return "errors" not in answer and answer["data"]["lots"]["totalCount"] > 0


@IN_THE_DEMOS_LOOP
async def test_the_printed_token_commands_work_as_printed(demo: Demo, tmp_path: Path) -> None:
    printed = re.search(r"^\s+more tokens: (.+)$", demo.banner, flags=re.MULTILINE)
    assert printed, demo.banner
    # the banner's command, from any directory (here an empty one)
    assert await _roles_taken(demo, await _shell(printed.group(1), tmp_path))
    # the README's wrapper, from the repository's root, with the demo's data dir (the README's demo keeps it in
    # data/demo, the default; this demo runs elsewhere)
    data_dir = shlex.split(printed.group(1))[3]
    wrapper = f"./scripts/lotgraph token --role quality --sub alice --data-dir {shlex.quote(data_dir)}"
    assert await _roles_taken(demo, await _shell(wrapper, REPO))


def test_examples_are_found_with_their_markers() -> None:
    """The extraction itself: README's blocks first, each with its line, and the marker read from the line above."""
    found = examples()
    assert found[0].path == "README.md"
    assert all(example.text.strip() for example in found)
    for example in found:
        if not example.not_run:
            _operation(example.text)  # every block that is run parses as one operation
