"""The Dockerfile and docker-compose.yml, as far as they can be checked without a Docker engine: they parse, the
image holds every package, runs as a user, has a health check, and its entry command — run here directly — serves;
every command and setting the compose file uses exists in the CLI and the settings."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from api.settings import LEAVES, load_settings
from bench import launch
from bench.launch import LOTGRAPH
from tests.conformance.conftest import gateway_url

REPO = Path(__file__).resolve().parents[2]
IMAGE = "lotgraph:local"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"the {self.name or self.base} stage has no {keyword}"
        return found[-1]


def dockerfile_stages(text: str) -> list[Stage]:
    joined = re.sub(r"\\\n", " ", text)
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            found = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), flags=re.I)
            assert found, line
            stages.append(Stage(found.group(1), found.group(2)))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"not exec (JSON) form: {args}"
    assert all(isinstance(v, str) for v in value), f"not exec (JSON) form: {args}"
    return value


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for pair in shlex.split(args):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


STAGES = dockerfile_stages((REPO / "Dockerfile").read_text())
RUNTIME = STAGES[-1]


def packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({p.rstrip("*").rstrip(".") for p in patterns})


def test_the_image_is_multi_stage_and_ships_every_package() -> None:
    assert len(STAGES) >= 2
    names = [s.name for s in STAGES]
    for stage in STAGES[1:]:
        for args in stage.all("COPY"):
            source = re.search(r"--from=(\S+)", args)
            if source:
                assert source.group(1) in names[: STAGES.index(stage)], args
    copied = {
        args.split()[0].rstrip("/") for stage in STAGES[:-1] for args in stage.all("COPY") if "--from" not in args
    }
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    for package in packages():
        assert package in copied, f"the Dockerfile does not COPY the package {package}"
        assert f"!{package}/" in ignore, f".dockerignore leaves out the package {package}"


def test_the_runtime_runs_as_a_user_with_a_health_check() -> None:
    user = RUNTIME.last("USER")
    assert user not in ("root", "0")
    assert not user.startswith("0:")
    health = RUNTIME.last("HEALTHCHECK")
    assert " CMD " in f" {health} "
    assert exec_form(RUNTIME.last("ENTRYPOINT")) + exec_form(RUNTIME.last("CMD")) == ["lotgraph", "serve"]
    assert "8000" in RUNTIME.last("EXPOSE")


def healthcheck_argv() -> list[str]:
    argv = exec_form(RUNTIME.last("HEALTHCHECK").split(" CMD ", 1)[1])
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


def image_env(plant: str, tmp_path: Path) -> dict[str, str]:
    """The image's environment, as a container would have it, with what only this machine needs changed."""
    image = {k: v for k, v in env_of(RUNTIME).items() if k != "PATH"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTGRAPH_")}
    env.update(image)
    env.update({f"LOTGRAPH_{s.upper()}_URL": f"{plant}/{s}" for s in ("erp", "qms", "mes", "wms")})
    # not in a container: loopback, a free port, a temporary data directory
    env.update(
        LOTGRAPH_HOST="127.0.0.1", LOTGRAPH_PORT=str(launch.free_port()), LOTGRAPH_DATA_DIR=str(tmp_path / "data")
    )
    env.update(LOTGRAPH_AUTH_HS256_SECRET="entry-command-test-secret-0123456789")  # a deployment must give a key
    return env


def test_the_entry_command_serves_and_the_health_check_sees_it(live_plant: str, tmp_path: Path) -> None:
    argv = exec_form(RUNTIME.last("ENTRYPOINT")) + exec_form(RUNTIME.last("CMD"))
    env = image_env(live_plant, tmp_path)
    base = f"http://127.0.0.1:{env['LOTGRAPH_PORT']}"
    process = launch.launch([LOTGRAPH, *argv[1:]], log=tmp_path / "gateway.log", env=env, ready=launch.answers(base))
    try:
        # JSON logs, as LOTGRAPH_LOG_FORMAT in the image says
        assert [gateway_url(line) for line in process.output().splitlines() if gateway_url(line)] == [
            f"{base}/graphql"
        ], process.tail()
        check = subprocess.run(healthcheck_argv(), env=env, timeout=30, check=False)
        assert check.returncode == 0
    finally:
        assert process.stop() == 0, process.tail()
    check = subprocess.run(healthcheck_argv(), env=env, capture_output=True, timeout=30, check=False)
    assert check.returncode != 0  # and it fails once the gateway is gone


COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def interpolate(value: Any) -> str:
    """Compose's ``${NAME:-default}``, as it reads with nothing set."""
    text = str(value)
    assert "${" not in DEFAULT.sub("", text), f"a variable without a default: {text}"
    return DEFAULT.sub(lambda m: m.group(2), text)


def lotgraph_services() -> dict[str, list[str]]:
    """The services that run the lotgraph image, with their full argv."""
    entrypoint = exec_form(RUNTIME.last("ENTRYPOINT"))
    return {
        name: entrypoint + [interpolate(a) for a in service.get("command", exec_form(RUNTIME.last("CMD")))]
        for name, service in SERVICES.items()
        if service.get("image") == IMAGE
    }


def cli_help(*args: str) -> str:
    done = subprocess.run([LOTGRAPH, *args, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_compose_has_three_gateways_postgres_redis_and_the_plant() -> None:
    commands = lotgraph_services()
    gateways = [name for name, argv in commands.items() if argv[1] == "serve"]
    assert len(gateways) >= 3, commands
    assert [name for name, argv in commands.items() if argv[1] == "plant"], commands
    assert any(str(s.get("image", "")).startswith("redis") for s in SERVICES.values())
    assert any(str(s.get("image", "")).startswith("postgres") for s in SERVICES.values())
    for name in gateways:  # replicas share the store (PostgreSQL) and the bus (Redis)
        env = SERVICES[name]["environment"]
        assert (env["LOTGRAPH_STORE"], env["LOTGRAPH_BUS"]) == ("postgres", "redis"), name
    for name, service in SERVICES.items():
        assert service.get("healthcheck") or service.get("image") == IMAGE, f"{name} has no health check"


def test_every_command_compose_uses_exists_in_the_cli() -> None:
    top = cli_help()
    for name, argv in lotgraph_services().items():
        assert argv[0] == "lotgraph"
        command = argv[1]
        assert re.search(rf"^\s+{re.escape(command)}\s", top, flags=re.M), f"{name}: no `lotgraph {command}`"
        options = set(re.findall(r"(--[a-z][a-z0-9-]*)", cli_help(command)))
        used = {a.split("=")[0] for a in argv[2:] if a.startswith("--")}
        assert used <= options, f"{name}: `lotgraph {command}` has no {sorted(used - options)}"


def test_every_setting_compose_gives_exists_and_is_valid() -> None:
    known = {leaf.env for leaf in LEAVES}
    services = set(SERVICES)
    for name, service in SERVICES.items():
        raw = service.get("environment") or {}
        env = {k: interpolate(v) for k, v in raw.items()}
        assert set(k for k in env if k.startswith("LOTGRAPH_")) <= known, f"{name}: unknown {set(env) - known}"
        if service.get("image") == IMAGE and lotgraph_services()[name][1] == "serve":
            settings = load_settings(env)  # raises SettingsError, naming the setting, on a bad value
            hosts = [urlsplit(s.url).hostname for s in settings.sources.values()]
            hosts.append(urlsplit(settings.redis_url or "").hostname)
            hosts.append(urlsplit(settings.postgres_url or "").hostname)
            assert set(hosts) <= services, f"{name} points at hosts that are not services: {hosts}"


def test_the_compose_healthchecks_are_exec_form() -> None:
    for name, service in SERVICES.items():
        test = service.get("healthcheck", {}).get("test")
        if test is not None:
            assert isinstance(test, list), f"{name}: {test}"
            assert test[0] == "CMD", f"{name}: {test}"


@pytest.mark.parametrize("path", ["Dockerfile", "docker-compose.yml", ".dockerignore"])
def test_the_files_are_there(path: str) -> None:
    assert (REPO / path).stat().st_size > 0
