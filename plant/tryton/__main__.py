"""``python -m plant.tryton``: prepare a Tryton server with the data set, load the data set, or serve it.

python -m plant.tryton prepare --home DIR [--seed 7] [--lots 60] [--db-uri URI]   # database + data, manifest
python -m plant.tryton load --config FILE --database NAME --manifest FILE [--seed] [--lots] [--receive JSON]
python -m plant.tryton serve --home DIR [--port 8200] [--db-uri URI]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from plant.tryton.prepare import prepare
from plant.tryton.server import server_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plant.tryton", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--lots", type=int, default=60)
    p.add_argument("--db-uri", default="sqlite://")
    load = commands.add_parser("load")
    load.add_argument("--config", required=True)
    load.add_argument("--database", required=True)
    load.add_argument("--manifest", type=Path, required=True)
    load.add_argument("--seed", type=int, default=7)
    load.add_argument("--lots", type=int, default=60)
    load.add_argument("--receive", help='lots another site shipped: {"supplier": code, "lots": [numbers]}')
    serve = commands.add_parser("serve")
    serve.add_argument("--home", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8200)
    serve.add_argument("--db-uri", default="sqlite://")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        manifest = prepare(server_for(args.home, args.db_uri), seed=args.seed, lots=args.lots)
        json.dump(manifest, sys.stdout, indent=2)
        return 0
    if args.command == "load":
        from plant.tryton.dataset import load as load_data

        manifest = load_data(args.config, args.database, seed=args.seed, lots=args.lots)
        if args.receive:
            from plant.tryton.receipts import Receipt, receive

            manifest |= receive(Receipt.loads(args.receive))
        args.manifest.write_text(json.dumps(manifest, indent=2))
        return 0
    process = server_for(args.home, args.db_uri, port=args.port).start()
    print(f"trytond on http://127.0.0.1:{args.port} (pid {process.pid})", flush=True)
    return process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
