"""The gateway's edge does not load the reference plant: ``serve`` needs none of it."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from api.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
import api.app
loaded = sorted(name for name in sys.modules if name == "plant" or name.startswith("plant."))
print("plant modules:", ",".join(loaded))
"""


@pytest.mark.parametrize("argv", [["serve", "--help"], ["--help"], ["demo", "--help"]])
def test_serve_does_not_import_the_plant(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "plant modules: "


def test_the_plant_command_still_has_its_arguments() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "plant", "--help"], capture_output=True, text=True, check=True, timeout=60
    )
    assert "--split-ports" in done.stdout
