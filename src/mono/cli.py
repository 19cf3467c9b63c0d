"""The ``mono`` console command: one entry point, one subcommand per job.

Each subcommand lives next to the code it drives and exposes two functions,
``configure(parser)`` (add its options) and ``run(args) -> int`` (exit status).
They are imported only when chosen, so ``mono --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import mono
from mono.errors import InputError

# name -> (module, one-line help)
SUBCOMMANDS = {
    "bounds": ("mono.bounds.cli", "explicit bounds and exact counts for a problem"),
    "eval": ("mono.construct.cli_eval", "build the MoNO (or baseline) and apply it to sampled functions"),
    "verify": ("mono.construct.cli_verify", "measure sup-error and sizes against the bounds; write a report"),
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other mono error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser(available: dict[str, object]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mono",
        description="Routed Mixtures of Neural Operators: bounds, constructions, verification.",
    )
    parser.add_argument("--version", action="version", version=f"mono {mono.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        module = available.get(name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        if module is not None:
            module.configure(p)
    return parser


def _load(name: str):
    try:
        return importlib.import_module(SUBCOMMANDS[name][0])
    except ModuleNotFoundError as exc:
        if exc.name == SUBCOMMANDS[name][0]:
            return None  # subcommand not implemented yet
        raise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    available = {chosen: _load(chosen)} if chosen else {}
    parser = build_parser(available)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = available[args.command]
    if module is None:
        parser.error(f"'{args.command}' is not available in this version")
    try:
        return int(module.run(args) or 0)
    except InputError as exc:
        print(f"mono {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mono {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
