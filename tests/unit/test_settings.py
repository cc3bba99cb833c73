from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from api.settings import LEAVES, SettingsError, load_settings
from resolvers.config import ResolverConfig
from resolvers.holds.policy import HoldPolicy
from sources.records import WarehouseStage

URLS = {f"LOTGRAPH_{s}_URL": f"http://plant:8100/{s.lower()}" for s in ("ERP", "QMS", "MES", "WMS")}
URLS["LOTGRAPH_AUTH_HS256_SECRET"] = "settings-test-secret-0123456789"


def test_defaults_with_only_the_source_urls() -> None:
    settings = load_settings(URLS)
    assert settings.port == 8000
    assert settings.sources["qms"].url == "http://plant:8100/qms"
    assert settings.sources["qms"].timeout == 2.0
    assert settings.store == "sqlite"
    assert settings.bus == "memory"


def test_environment_beats_file_and_flags_beat_environment(tmp_path: Path) -> None:
    config = tmp_path / "lotgraph.toml"
    config.write_text('port = 9000\n[sources.qms]\ntimeout = 1.5\nurl = "http://qms.local"\n')
    env = {**URLS, "LOTGRAPH_CONFIG": str(config), "LOTGRAPH_QMS_URL": ""}
    settings = load_settings(env)
    assert settings.port == 9000
    assert settings.sources["qms"].timeout == 1.5
    assert settings.sources["qms"].url == "http://qms.local"
    assert load_settings({**env, "LOTGRAPH_PORT": "9100"}).port == 9100
    assert load_settings({**env, "LOTGRAPH_PORT": "9100"}, port=9200).port == 9200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOTGRAPH_ERP_URL": ""}, "LOTGRAPH_ERP_URL: missing"),
        ({"LOTGRAPH_QMS_URL": "ftp://x"}, "LOTGRAPH_QMS_URL: must be an http:// or https:// URL"),
        ({"LOTGRAPH_WMS_TIMEOUT": "soon"}, "LOTGRAPH_WMS_TIMEOUT: must be a number of seconds"),
        ({"LOTGRAPH_MES_TIMEOUT": "0"}, "LOTGRAPH_MES_TIMEOUT: must be more than 0"),
        ({"LOTGRAPH_ERP_CACHE_TTL": "-1"}, "LOTGRAPH_ERP_CACHE_TTL: must not be negative"),
        ({"LOTGRAPH_PORT": "70000"}, "LOTGRAPH_PORT: must be a port number"),
        ({"LOTGRAPH_BUS": "kafka"}, "LOTGRAPH_BUS: must be one of memory, redis"),
        ({"LOTGRAPH_STORE": "redis"}, "LOTGRAPH_REDIS_URL: missing"),
        ({"LOTGRAPH_REDIS_URL": "http://redis"}, "LOTGRAPH_REDIS_URL: must be a redis://"),
        ({"LOTGRAPH_GRAPHIQL": "perhaps"}, "LOTGRAPH_GRAPHIQL: must be true or false"),
        ({"LOTGRAPH_AUTH_HS256_SECRET": ""}, "LOTGRAPH_AUTH_HS256_SECRET: missing"),
        ({"LOTGRAPH_AUTH_MODE": "off"}, "LOTGRAPH_AUTH_MODE: must be one of jwt, none"),
        ({"LOTGRAPH_AUTH_JWKS_FILE": "/nonexistent/jwks.json"}, "LOTGRAPH_AUTH_JWKS_FILE: no such file"),
        ({"LOTGRAPH_LIMITS_RATE": "-1"}, "LOTGRAPH_LIMITS_RATE: must be from 0"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(env: dict[str, str], message: str) -> None:
    env = {**URLS, **env}
    env = {k: v for k, v in env.items() if v != ""}
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_file_errors_name_the_key_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "lotgraph.toml"
    config.write_text("[sources.qms]\ntimeuot = 3\n")
    with pytest.raises(SettingsError, match=r"sources\.qms\.timeuot in .*: unknown setting"):
        load_settings({**URLS, "LOTGRAPH_CONFIG": str(config)})
    config.write_text("[sources.qms]\ntimeout = 'x'\n")
    with pytest.raises(SettingsError, match=r"sources\.qms\.timeout in .*: must be a number"):
        load_settings({**URLS, "LOTGRAPH_CONFIG": str(config)})
    with pytest.raises(SettingsError, match="LOTGRAPH_CONFIG: no such file"):
        load_settings({**URLS, "LOTGRAPH_CONFIG": str(tmp_path / "absent.toml")})
    config.write_text("port = [")
    with pytest.raises(SettingsError, match="LOTGRAPH_CONFIG: cannot read"):
        load_settings({**URLS, "LOTGRAPH_CONFIG": str(config)})


def test_the_tree_is_the_only_declaration() -> None:
    """Every setting the tree declares reaches the object the gateway uses, with the declared default."""
    settings = load_settings(URLS)
    for leaf in LEAVES:
        value: Any = settings
        for name in leaf.path:
            value = getattr(value, name)
        if leaf.env not in URLS:
            assert value == leaf.default, leaf.key
    assert settings.holds == HoldPolicy()  # the holds node is the policy the resolvers get, defaults included
    assert settings.resolvers == ResolverConfig()


@pytest.mark.parametrize(
    ("env", "path", "expected"),
    [
        ({"LOTGRAPH_HOLDS_RETRY_MAX_ATTEMPTS": "3"}, ("holds", "max_attempts"), 3),
        ({"LOTGRAPH_HOLDS_RETRY_POLL_SECONDS": "0.5"}, ("holds", "poll_seconds"), 0.5),
        ({"LOTGRAPH_READINESS_REQUIRED_STAGE": "Loaded"}, ("resolvers", "readiness_stage"), WarehouseStage.LOADED),
        ({"LOTGRAPH_GENEALOGY_MAX_DEPTH": "4"}, ("resolvers", "genealogy_max_depth"), 4),
        ({"LOTGRAPH_RESILIENCE_BREAKER_FAILURES": "7"}, ("resilience", "failures"), 7),
        ({"LOTGRAPH_AUTH_LEEWAY": "0"}, ("auth", "leeway_seconds"), 0.0),
        ({"LOTGRAPH_WEBHOOKS_QMS_SECRET": "q" * 16}, ("webhooks", "secrets"), {"qms": "q" * 16}),
        ({"LOTGRAPH_MES_KIND": "contract"}, ("sources", "mes", "kind"), "contract"),
        ({"LOTGRAPH_LOG_LEVEL": "debug"}, ("log_level",), "DEBUG"),
    ],
)
def test_each_variable_reaches_its_node(env: dict[str, str], path: tuple[str, ...], expected: object) -> None:
    value: Any = load_settings({**URLS, **env})
    for name in path:
        value = getattr(value, name)
    assert value == expected


def test_a_source_kind_must_be_known() -> None:
    with pytest.raises(SettingsError, match="LOTGRAPH_ERP_KIND: must be one of contract, tryton, got 'sap'"):
        load_settings({**URLS, "LOTGRAPH_ERP_KIND": "sap"})


def test_a_tryton_kind_needs_its_database_and_password() -> None:
    env = {**URLS, "LOTGRAPH_WMS_KIND": "tryton", "LOTGRAPH_WMS_TRYTON_DATABASE": "plant"}
    with pytest.raises(SettingsError, match=r"LOTGRAPH_WMS_TRYTON_PASSWORD: missing .*LOTGRAPH_WMS_KIND is tryton"):
        load_settings(env)
    settings = load_settings({**env, "LOTGRAPH_WMS_TRYTON_PASSWORD": "secret"})
    assert settings.sources["wms"].kind == "tryton"
    assert settings.sources["erp"].kind == "contract"  # any mix of kinds
    assert settings.sources["wms"].tryton.login == "admin"


def test_the_cli_names_a_bad_setting_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    env = {**URLS, "LOTGRAPH_QMS_TIMEOUT": "abc"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert main(["serve"]) == 2
    assert capsys.readouterr().err == "lotgraph: setting LOTGRAPH_QMS_TIMEOUT: must be a number of seconds, got 'abc'\n"
