"""``sluice dead list|replay|delete FUNCTION``: a function's dead letters (jobs that used
their last attempt) through the admin routes /v1/admin/dead/{function}."""

from __future__ import annotations

import argparse

from cli.arguments import whole_number
from cli.http import Gateway, path_segment
from cli.jobs import error_text
from cli.output import note, one_line, print_json, print_table

LIST_COLUMNS = ("ENTRY", "JOB", "TENANT", "ATTEMPTS", "DIED", "ERROR")
# What a replay did not do, by the reply's field: said on stderr when it happened.
NOT_REPLAYED = {
    "missing": "not found",
    "gone": "expired",
    "not_failed": "no longer failed",
    "no_document": "without their document",
}


def dead_path(function: str) -> str:
    return f"/v1/admin/dead/{path_segment(function)}"


def list_dead(args: argparse.Namespace, gateway: Gateway) -> None:
    """The newest dead letters first; --after pages on."""
    query = {}
    if args.count is not None:
        query["count"] = str(args.count)
    if args.after is not None:
        query["after"] = args.after
    reply = gateway.call("GET", dead_path(args.function), params=query)
    if args.json:
        print_json(reply)
        return
    rows = [
        (
            letter["entry_id"],
            letter["job_id"],
            letter.get("tenant") or "-",
            str(letter["attempts"]),
            letter["dead_at"],
            one_line(error_text(letter.get("error"))),
        )
        for letter in reply["dead_letters"]
    ]
    print_table(LIST_COLUMNS, rows)


def replay(args: argparse.Namespace, gateway: Gateway) -> None:
    """Queue the same job ids again with fresh attempts; their ids go to stdout."""
    body = {"entry_ids": "all" if args.all else args.entry_ids}
    reply = gateway.call("POST", f"{dead_path(args.function)}/replay", body)
    if args.json:
        print_json(reply)
    else:
        for job_id in reply["job_ids"]:
            print(job_id)
    left = [f"{reply[field]} {why}" for field, why in NOT_REPLAYED.items() if reply.get(field)]
    note(f"replayed {reply['replayed']}" + (f"; not replayed: {', '.join(left)}" if left else ""))


def delete(args: argparse.Namespace, gateway: Gateway) -> None:
    """Delete the entries (the jobs stay failed)."""
    if args.all:
        deleted = int(gateway.call("DELETE", dead_path(args.function))["deleted"])
    else:
        deleted = sum(
            int(
                gateway.call("DELETE", f"{dead_path(args.function)}/{path_segment(entry)}")[
                    "deleted"
                ]
            )
            for entry in args.entry_ids
        )
    if args.json:
        print_json({"deleted": deleted})
    else:
        print(f"deleted {deleted}")


def _entries(parser: argparse.ArgumentParser, what: str) -> None:
    """ENTRY_ID ... or --all, one of them."""
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "entry_ids", nargs="*", default=[], metavar="ENTRY_ID", help=f"an entry to {what}"
    )
    chosen.add_argument("--all", action="store_true", help=f"{what} every entry of FUNCTION")


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``dead`` and its three commands, each with the ``common`` options."""
    group = commands.add_parser(
        "dead",
        parents=[common],
        help="list, replay and delete dead letters (admin)",
        description="Dead letters: jobs that failed their last attempt, kept per function"
        " with their error. Needs the admin scope.",
    )
    actions = group.add_subparsers(title="commands", metavar="COMMAND", required=True)
    listed = actions.add_parser(
        "list",
        parents=[common],
        help="list a function's dead letters, newest first",
        description="List FUNCTION's dead letters, newest first: entry id, job id, tenant,"
        " attempts, when it died and its error.",
    )
    listed.add_argument("function", metavar="FUNCTION", help="the function")
    listed.add_argument(
        "--count", type=whole_number, metavar="N", help="at most N (default 100, at most 1000)"
    )
    listed.add_argument(
        "--after", metavar="ENTRY_ID", help="those older than ENTRY_ID (the last one shown)"
    )
    listed.set_defaults(run=list_dead)
    replayed = actions.add_parser(
        "replay",
        parents=[common],
        help="queue dead letters' jobs again",
        description="Queue the jobs again, under the same job ids, with fresh attempts; their"
        " ids go to stdout, a count to stderr. An entry whose job expired, or whose document"
        " is gone, is kept and counted as not replayed.",
    )
    replayed.add_argument("function", metavar="FUNCTION", help="the function")
    _entries(replayed, "replay")
    replayed.set_defaults(run=replay)
    deleted = actions.add_parser(
        "delete",
        parents=[common],
        help="delete dead letters",
        description="Delete entries from the dead letters; their jobs stay failed.",
    )
    deleted.add_argument("function", metavar="FUNCTION", help="the function")
    _entries(deleted, "delete")
    deleted.set_defaults(run=delete)
