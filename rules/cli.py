"""``python -m rules`` (wired as ``propwatch rules``): check rule packs, publish them, list the rules in force."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ingest.database import connect
from rules.errors import RulePackError
from rules.loader import default_pack, load_pack_file
from rules.store import effective_pack, publish_pack


def _check(paths: Sequence[Path]) -> int:
    base = default_pack()
    failed = False
    for path in paths:
        try:
            pack = load_pack_file(path, base=base)
        except RulePackError as exc:
            print(exc, file=sys.stderr)
            failed = True
        except OSError as exc:
            print(f"{path}: {exc.strerror}", file=sys.stderr)
            failed = True
        else:
            print(f"{path}: OK, pack '{pack.name}' v{pack.version}: {len(pack.rules)} rules, "
                  f"{len(pack.overrides)} overrides, {len(pack.inhibitions)} inhibitions")
    return 1 if failed else 0


def _publish(path: Path, database_url: str, actor: str) -> int:
    try:
        with connect(database_url) as conn:
            name, version = publish_pack(conn, path.read_text(encoding="utf-8"), actor=actor)
    except RulePackError as exc:
        print(str(exc).replace("<published>", str(path)), file=sys.stderr)
        return 1
    print(f"published pack '{name}' version {version}; running engines reload it within seconds")
    return 0


def _list(database_url: str | None) -> int:
    if database_url:
        with connect(database_url) as conn:
            pack = effective_pack(conn)
    else:
        pack = default_pack()
    for rule in pack.rules:
        print(f"{rule.id:40} {rule.kind:10} {rule.severity} {rule.category:20} {rule.title_en}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 invalid pack); usage errors exit with 2."""
    parser = argparse.ArgumentParser(prog="propwatch rules", description="Rule packs: check, publish, list.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate rule pack files; problems are printed as FILE:LINE: ...")
    check.add_argument("files", nargs="+", type=Path)
    publish = sub.add_parser("publish", help="validate a pack and store it as a new version in the database")
    publish.add_argument("file", type=Path)
    publish.add_argument("--actor", default=os.environ.get("USER", "cli"))
    listing = sub.add_parser("list", help="the rules in force (default pack plus stored packs)")
    for command in (publish, listing):
        command.add_argument("--database-url", default=os.environ.get("PROPWATCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.files)
    if args.command == "publish":
        if not args.database_url:
            parser.error("publish needs --database-url or PROPWATCH_DATABASE_URL")
        return _publish(args.file, args.database_url, args.actor)
    return _list(args.database_url)
