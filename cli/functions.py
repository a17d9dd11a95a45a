"""``sluice functions`` (what the gateway serves) and ``sluice pause|resume FUNCTION``
(admin: a paused function still takes jobs, its consumers start none of them)."""

from __future__ import annotations

import argparse
from typing import Any

from cli.http import Gateway, path_segment
from cli.output import one_line, print_json, print_table

FUNCTIONS_PATH = "/v1/functions"
ADMIN_FUNCTIONS_PATH = "/v1/admin/functions"
LIST_COLUMNS = ("NAME", "DOCUMENT", "TIMEOUT", "ATTEMPTS", "BACKLOG", "DESCRIPTION")
# Characters of a description the table shows (--json has it whole).
SUMMARY_WIDTH = 60


def number(value: Any) -> str:
    """``30`` for 30.0, ``1.5`` as it is, ``-`` for none."""
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else str(value)


def summary(description: str) -> str:
    """A description's first paragraph, cut to fit a table's last column."""
    text = one_line(description.split("\n\n")[0])
    return text if len(text) <= SUMMARY_WIDTH else text[: SUMMARY_WIDTH - 3].rstrip() + "..."


def list_functions(args: argparse.Namespace, gateway: Gateway) -> None:
    """The functions, with their limits; --json adds their input schemas."""
    reply = gateway.call("GET", FUNCTIONS_PATH)
    if args.json:
        print_json(reply)
        return
    rows = [
        (
            spec["name"],
            "yes" if spec.get("takes_document") else "no",
            f"{number(spec.get('timeout'))}s",
            number(spec.get("max_attempts")),
            number(spec.get("max_backlog")),
            summary(spec.get("description") or ""),
        )
        for spec in reply["functions"]
    ]
    print_table(LIST_COLUMNS, rows)


def pause(args: argparse.Namespace, gateway: Gateway) -> None:
    _set_paused(args, gateway, "pause")


def resume(args: argparse.Namespace, gateway: Gateway) -> None:
    _set_paused(args, gateway, "resume")


def _set_paused(args: argparse.Namespace, gateway: Gateway, action: str) -> None:
    path = f"{ADMIN_FUNCTIONS_PATH}/{path_segment(args.function)}/{action}"
    reply = gateway.call("POST", path)
    if args.json:
        print_json(reply)
    else:
        print(f"{'paused' if reply['paused'] else 'resumed'} {reply['function']}")


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``functions``, ``pause`` and ``resume``, each with the ``common`` options."""
    listed = commands.add_parser(
        "functions",
        parents=[common],
        help="list the functions the gateway serves",
        description="The functions: whether each takes a document, its time limit, attempts,"
        " backlog bound and description (--json: everything, input schemas included).",
    )
    listed.set_defaults(run=list_functions)
    paused = commands.add_parser(
        "pause",
        parents=[common],
        help="pause a function (admin)",
        description="Pause FUNCTION: it still takes and queues jobs, but its consumers start"
        " none until it is resumed; jobs running finish. Needs the admin scope.",
    )
    paused.add_argument("function", metavar="FUNCTION", help="the function")
    paused.set_defaults(run=pause)
    resumed = commands.add_parser(
        "resume",
        parents=[common],
        help="resume a paused function (admin)",
        description="Resume FUNCTION: its consumers start its queued jobs again.",
    )
    resumed.add_argument("function", metavar="FUNCTION", help="the function")
    resumed.set_defaults(run=resume)
