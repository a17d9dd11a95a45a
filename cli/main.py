"""``sluice [--url URL] [--api-key KEY] [--json] COMMAND ...``: the parser and the run.

Each command module adds its commands with ``add_commands(commands, common)`` and sets
``run`` (``Command``) on its leaf parsers; main builds the gateway client, runs the one
chosen and turns a CliError into its message on stderr and its exit code (Ctrl-C into
130, as a shell would report it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from cli import dead, functions, jobs, keys, submit, top
from cli.errors import EXIT_CODE_MEANINGS, CliError, ExitCode
from cli.http import Gateway

# What the command talks to when neither --url nor SLUICE_URL says: `make run` / the
# Procfile's web process on this machine.
DEFAULT_URL = "http://localhost:8000"

Command = Callable[[argparse.Namespace, Gateway], None]

# The modules whose commands `sluice` offers, in --help's order.
COMMAND_MODULES = (submit, jobs, functions, top, dead, keys)


def add_common_options(parser: argparse.ArgumentParser, environ: Mapping[str, str] | None) -> None:
    """--url, --api-key and --json. The top parser gets them with their defaults (from
    ``environ``); each command's parser again without (``environ`` None), so they may come
    after the command too and a value given before it is not overwritten by a default."""

    def default(value: str | None) -> str | None:
        return value if environ is not None else argparse.SUPPRESS

    env = environ or {}
    parser.add_argument(
        "--url",
        default=default(env.get("SLUICE_URL") or DEFAULT_URL),
        help=f"the gateway's base URL (default: SLUICE_URL, else {DEFAULT_URL})",
    )
    parser.add_argument(
        "--api-key",
        default=default(env.get("SLUICE_API_KEY") or None),
        help="the key sent as 'Authorization: Bearer' (default: SLUICE_API_KEY, which keeps"
        " it out of the process list)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if environ is not None else argparse.SUPPRESS,
        help="print the gateway's JSON reply instead of text",
    )


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    """The whole command line, defaults read from ``environ``."""
    codes = "\n".join(
        f"  {code.value:<3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items()
    )
    parser = argparse.ArgumentParser(
        prog="sluice",
        description="Administer and use a sluice gateway over its HTTP API.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser, environ)
    common = argparse.ArgumentParser(add_help=False)
    add_common_options(common, None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.add_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command ``argv`` names (default: this process's arguments and environment)."""
    args = build_parser(os.environ if environ is None else environ).parse_args(argv)
    run: Command = args.run
    try:
        with Gateway(args.url, args.api_key) as gateway:
            try:
                run(args, gateway)
            finally:
                sys.stdout.flush()  # here, so that a closed pipe is caught below
    except CliError as error:
        print(f"sluice: {error.message}", file=sys.stderr)
        return error.exit_code
    except (KeyError, TypeError, AttributeError) as error:
        # A 2xx reply without what the API promises: a gateway of another version, or
        # something else answering at the URL.
        print(
            f"sluice: the gateway's reply is not what this command knows: {error!r}",
            file=sys.stderr,
        )
        return ExitCode.UNAVAILABLE
    except KeyboardInterrupt:
        print("sluice: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout has gone (`sluice functions | head -3`): the rest goes
        # nowhere, and the interpreter's own flush at exit must not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.BROKEN_PIPE
    return ExitCode.OK
