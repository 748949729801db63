"""`cogaudio models list|pull|verify|remove`: the model registry (core.models.registry) from the shell.

  list [--json]            every catalogued model: bundled or hub, present, size, checksum state
  pull ID                  download from the Hugging Face Hub with a progress bar; resumes a
                           partial download; verifies sha256; offline it says so plainly
  verify [ID] [--json]     hash the files (all present models without ID)
  remove ID                delete a downloaded model (bundled ones belong to their package)

Exit codes: 0 ok, 1 failure (offline, checksum mismatch, unknown id), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.common import settings_from

PROG = "cogaudio models"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("models", help="list, pull, verify or remove models",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--settings", metavar="FILE", default=None, help="settings JSON (default: the user config file)")
    sub = p.add_subparsers(dest="action", required=True)
    lp = sub.add_parser("list", help="show the catalogue and what is present")
    lp.add_argument("--json", action="store_true")
    pp = sub.add_parser("pull", help="download a model from the Hugging Face Hub")
    pp.add_argument("id")
    vp = sub.add_parser("verify", help="check sha256 of present models")
    vp.add_argument("id", nargs="?")
    vp.add_argument("--json", action="store_true")
    rp = sub.add_parser("remove", help="delete a downloaded model")
    rp.add_argument("id")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.models.registry import ModelRegistry, RegistryError

    try:
        registry = ModelRegistry(settings_from(args.settings).resolved_data_dir())
        if args.action == "list":
            return _show(registry.list(), args.json)
        if args.action == "verify":
            states = registry.verify(args.id)
            _show(states, args.json)
            return 0 if all(s.checksum in ("ok", "unpinned") for s in states) else 1
        if args.action == "pull":
            state = registry.pull(args.id, show_bar=True)
            print(f"{state.id}: {state.checksum} ({', '.join(f.path or f.filename for f in state.files)})")
            return 0
        if args.action == "remove":
            removed = registry.remove(args.id)
            print(f"removed {len(removed)} file(s) of {args.id}" if removed else f"{args.id} was not downloaded")
            return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; `cogaudio models pull` resumes where it stopped", file=sys.stderr)
        return 130
    except RegistryError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # one clear line, never a traceback
        print(f"{PROG}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 1


def _show(states, as_json: bool) -> int:
    if as_json:
        print(json.dumps([s.as_dict() for s in states]))
        return 0
    print(f"{'ID':<28} {'KIND':<10} {'SOURCE':<8} {'SIZE':>10}  CHECKSUM")
    for s in states:
        size = sum(f.size or 0 for f in s.files) if s.present else None
        shown = f"{size / 1e6:.1f} MB" if size is not None else "-"
        print(f"{s.id:<28} {s.kind:<10} {s.source:<8} {shown:>10}  {s.checksum if s.present else 'not present'}")
    return 0
