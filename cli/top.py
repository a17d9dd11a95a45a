"""``sluice top``: every function's queue, refreshed in place, from the admin route
GET /v1/admin/functions (``--once``: one table, for scripts)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from cli.arguments import positive_seconds
from cli.errors import GatewayUnavailableError
from cli.functions import ADMIN_FUNCTIONS_PATH
from cli.http import Gateway
from cli.output import print_json, table_lines

COLUMNS = (
    "FUNCTION",
    "PAUSED",
    "BACKLOG",
    "RUNNING",
    "RETRYING",
    "SCHEDULED",
    "DEAD",
    "OLDEST",
    "CONSUMERS",
    "SUCCEEDED",
    "FAILED",
)
# Clear the terminal and put the cursor top left: each refresh draws over the last.
CLEAR = "\x1b[H\x1b[2J"


def age(seconds: float | None) -> str:
    """``45s``, ``3m05s``, ``2h10m``: how long the oldest job not yet started has waited."""
    if not seconds:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds:.1f}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def rows(reply: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per function, as the reply orders them."""
    found: list[tuple[str, ...]] = []
    for function in reply["functions"]:
        totals = function.get("jobs_total") or {}
        found.append(
            (
                str(function["function"]),
                "yes" if function.get("paused") else "no",
                str(function.get("backlog", 0)),
                str(function.get("running", 0)),
                str(function.get("retrying", 0)),
                str(function.get("scheduled", 0)),
                str(function.get("dead_letters", 0)),
                age(function.get("oldest_queued_seconds")),
                str(function.get("consumers", 0)),
                str(totals.get("succeeded", 0)),
                str(totals.get("failed", 0)),
            )
        )
    return found


def top(args: argparse.Namespace, gateway: Gateway) -> None:
    """One table (--once), or one every --interval seconds until Ctrl-C."""
    if args.once:
        reply = gateway.call("GET", ADMIN_FUNCTIONS_PATH)
        if args.json:
            print_json(reply)
        else:
            print("\n".join(table_lines(COLUMNS, rows(reply))))
        return
    live = sys.stdout.isatty() and not args.json
    try:
        while True:
            _refresh(args, gateway, live)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return  # the way to leave it: not an error


def _refresh(args: argparse.Namespace, gateway: Gateway, live: bool) -> None:
    """Draw the table once; a gateway down for a moment is said, and tried again next time."""
    stamp = datetime.now().strftime("%H:%M:%S")
    try:
        reply = gateway.call("GET", ADMIN_FUNCTIONS_PATH)
    except GatewayUnavailableError as error:
        if args.json:
            raise  # a script reading JSON lines learns it by the exit code
        lines = [f"{stamp}  {error.message}"]
    else:
        if args.json:  # one JSON document per line, for a script to read as they come
            print(json.dumps(reply, separators=(",", ":")), flush=True)
            return
        lines = [f"{stamp}  {gateway.url}", *table_lines(COLUMNS, rows(reply))]
    if live:
        header = f"sluice top, every {args.interval:g} s (Ctrl-C to quit)"
        sys.stdout.write(CLEAR + "\n".join([header, *lines]) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n\n")
    sys.stdout.flush()


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``top``, with the ``common`` options."""
    shown = commands.add_parser(
        "top",
        parents=[common],
        help="watch every function's queue (admin)",
        description="A table per function, redrawn every --interval seconds until Ctrl-C:"
        " paused, backlog (XLEN: jobs queued, running or to retry), running, retrying, scheduled,"
        " dead letters, the age of the oldest job not yet started, consumers alive and the"
        " jobs succeeded and failed so far. Needs the admin scope. With --json, one JSON"
        " reply per line.",
    )
    shown.add_argument(
        "--interval",
        type=positive_seconds,
        default=2.0,
        metavar="SECONDS",
        help="seconds between refreshes (default 2)",
    )
    shown.add_argument("--once", action="store_true", help="print one table and exit")
    shown.set_defaults(run=top)
