"""The configuration page's tables are the ones the settings tree makes, its example file loads, and no merge left
its markers in the tree."""

import re
from pathlib import Path

from api.settings import LEAVES, configuration_tables, load_settings

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()


def test_the_tables_are_generated_from_the_settings_tree() -> None:
    """Regenerate them with ``lotgraph settings --markdown`` when this fails."""
    for table in configuration_tables().values():
        assert table in DOC


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `(LOTGRAPH_[A-Z0-9_]+)` \| `([a-z0-9_.]+)` \|", DOC, flags=re.M))
    assert documented == {(leaf.env, leaf.key) for leaf in LEAVES}


def test_the_example_file_is_valid(tmp_path: Path) -> None:
    example = re.search(r"```toml\n(.*?)```", DOC, flags=re.S)
    assert example
    config = tmp_path / "lotgraph.toml"
    config.write_text(example.group(1))
    settings = load_settings({"LOTGRAPH_CONFIG": str(config)})
    assert settings.sources["mes"].timeout == 5.0
    assert settings.sources["qms"].cache_ttl == 0.0


def test_no_merge_conflict_is_left_in_the_tree() -> None:
    root = Path(__file__).parents[2]
    marker = re.compile(r"^(<{7}|>{7}) ", flags=re.M)
    parts = ("api", "resolvers", "schema", "sources", "plant", "bench", "tests", "docs", "scripts")
    files = [root / "README.md", root / "pyproject.toml"]
    files += [f for part in parts for f in (root / part).rglob("*")
              if f.suffix in {".py", ".md", ".toml", ".sh"} and "node_modules" not in f.parts]  # fmt: skip
    left = [str(f.relative_to(root)) for f in files if f.is_file() and marker.search(f.read_text(errors="replace"))]
    assert left == []
