"""``python -m plant``: the same as ``lotgraph plant``."""

from plant.cli import main

raise SystemExit(main())
