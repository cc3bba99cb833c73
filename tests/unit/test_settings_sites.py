"""Other sites in the settings: LOTGRAPH_SITES with LOTGRAPH_SITE_<NAME>_…, or [sites.<name>] tables; the ids of
several sites (docs/sites.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.settings import SettingsError, load_settings
from sources.sites.ids import SiteIds

URLS = {f"LOTGRAPH_{s}_URL": f"http://own.test/{s.lower()}" for s in ("ERP", "QMS", "MES", "WMS")}
B_URLS = {f"LOTGRAPH_SITE_B_{s}_URL": f"http://b.test/{s.lower()}" for s in ("ERP", "QMS", "MES", "WMS")}
BASE = {**URLS, "LOTGRAPH_AUTH_MODE": "none"}


def test_no_sites_is_one_default_site() -> None:
    settings = load_settings(BASE)
    assert (settings.site, settings.other_sites, dict(settings.sites)) == ("main", (), {})


def test_sites_from_the_environment() -> None:
    settings = load_settings({**BASE, **B_URLS, "LOTGRAPH_SITE": "A", "LOTGRAPH_SITES": "b",
                              "LOTGRAPH_SITE_B_MES_KIND": "epcis", "LOTGRAPH_SITE_B_SUPPLIER": "PLANT-B"})  # fmt: skip
    assert settings.site == "a"
    assert settings.other_sites == ("b",)
    b = settings.sites["b"]
    assert (b.supplier, b.sources.mes.kind, b.sources.mes.url) == ("PLANT-B", "epcis", "http://b.test/mes")
    assert b.sources.mes.cache_ttl == 60.0  # the defaults of the deployment's own systems


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOTGRAPH_SITES": "b"}, "LOTGRAPH_SITE_B_ERP_URL: missing"),
        ({"LOTGRAPH_SITES": "b,b", **B_URLS}, "LOTGRAPH_SITES: a site is named twice"),
        ({"LOTGRAPH_SITES": "main", **B_URLS}, "LOTGRAPH_SITES: 'main' is the deployment's own site"),
        ({"LOTGRAPH_SITES": "b:1"}, "LOTGRAPH_SITES: a site name is a letter"),
        (
            {"LOTGRAPH_SITES": "b", **B_URLS, "LOTGRAPH_SITE_B_QMS_KIND": "tryton"},
            "LOTGRAPH_SITE_B_QMS_TRYTON_DATABASE",
        ),
    ],
)
def test_a_bad_site_is_named_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings({**BASE, **env})


def test_the_documented_sites_file_loads_and_unknown_keys_are_named(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    example = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)[1]
    config = tmp_path / "sites.toml"
    config.write_text(example)
    settings = load_settings({**BASE, "LOTGRAPH_CONFIG": str(config)})
    assert (settings.site, settings.other_sites) == ("a", ("b",))
    assert settings.sites["b"].sources.mes.kind == "epcis"
    config.write_text(example + '\n[sites.b.sources.erp.extra]\nurl = "x"\n')
    with pytest.raises(SettingsError, match=r"sites\.b\.sources\.erp\.extra\.url in .*: unknown setting"):
        load_settings({**BASE, "LOTGRAPH_CONFIG": str(config)})


def test_ids_of_several_sites() -> None:
    ids = SiteIds("a", ("a", "b"))
    assert ids.split("LOT-1") == ("a", "LOT-1")
    assert ids.split("b:LOT-1") == ("b", "LOT-1")
    assert ids.split("a:LOT-1") == ("a", "a:LOT-1")  # one spelling per record: the default site's ids are bare
    assert ids.split("urn:epc:class:lgtin:4012345.012345.L1") == ("a", "urn:epc:class:lgtin:4012345.012345.L1")
    assert ids.qualify("a", "LOT-1") == "LOT-1"
    assert ids.qualify("b", "LOT-1") == "b:LOT-1"
    assert ids.by_site(["b:X", "Y", "b:Z", "W"]) == {"a": {"Y": "Y", "W": "W"}, "b": {"X": "b:X", "Z": "b:Z"}}
