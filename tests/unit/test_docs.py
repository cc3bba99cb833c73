"""The configuration page lists every setting the code reads, and its example file loads."""

import re
from pathlib import Path

from api.settings import SPECS, load_settings

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `(LOTGRAPH_[A-Z0-9_]+)` \| `([a-z0-9_.]+)` \|", DOC, flags=re.M))
    assert documented == {(spec.env, spec.key) for spec in SPECS}


def test_the_example_file_is_valid(tmp_path: Path) -> None:
    example = re.search(r"```toml\n(.*?)```", DOC, flags=re.S)
    assert example
    config = tmp_path / "lotgraph.toml"
    config.write_text(example.group(1))
    settings = load_settings({"LOTGRAPH_CONFIG": str(config)})
    assert settings.sources["mes"].timeout == 5.0
    assert settings.sources["qms"].cache_ttl == 0.0
