"""``sluice submit FUNCTION [FILE]``: a job from the command line, JSON or a document, with
its chain and options; ``--wait`` follows it to its end and prints its result."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli.arguments import positive_seconds, seconds
from cli.errors import CliError, GatewayRefusedError, UsageError
from cli.follow import check_ended, follow
from cli.http import Gateway, path_segment
from cli.inputs import chain_query, function_names, given_input, job_input, parameter
from cli.output import json_text, print_json, save_or_print
from cli.progress import ProgressLine


def submit(args: argparse.Namespace, gateway: Gateway) -> None:
    """Submit; print the job id, or with --wait (or -o) the result once it succeeded."""
    follow_ups = [name for names in args.then for name in names]
    body, chained = job_input(args.input, args.parameters, follow_ups)
    query = _options(args)
    if then := chain_query(follow_ups, chained):
        query["then"] = then
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else {}
    path = f"/v1/jobs/{path_segment(args.function)}"
    try:
        if args.file is None:
            reply = gateway.call("POST", path, body, params=query, headers=headers)
        else:
            reply = _upload(gateway, path, args.file, body, query, headers)
    except GatewayRefusedError as error:
        raise _with_hint(error, args, gateway) from None
    if not (args.wait or args.output):
        if args.json:
            print_json(reply)
        else:
            print(reply["job_id"])
        return
    with ProgressLine() as line:
        final = follow(gateway, reply["job_id"], line, timeout=args.timeout, chain=True)
    if args.json:
        print_json(final)
    if final["status"] == "succeeded" and (args.output or not args.json):
        save_or_print(final.get("result"), args.output, f"the result of {final['job_id']}")
    check_ended(final)


def _options(args: argparse.Namespace) -> dict[str, str]:
    """The submission's options as the query string takes them."""
    query: dict[str, str] = {}
    if args.delay is not None:  # plain decimal seconds: the gateway takes no exponent
        query["delay"] = format(args.delay, "f").rstrip("0").rstrip(".") or "0"
    if args.not_before is not None:
        query["not_before"] = args.not_before
    if args.callback_url is not None:
        query["callback_url"] = args.callback_url
    return query


def _upload(
    gateway: Gateway,
    path: str,
    file: str,
    body: Any,
    query: dict[str, str],
    headers: dict[str, str],
) -> Any:
    """A document function's multipart submission: the ``file`` part streamed from disk,
    the input as the ``params`` part."""
    try:
        document = open(file, "rb")
    except OSError as error:
        raise UsageError(f"cannot read {file}: {error.strerror or error}") from None
    with document:
        # The gateway judges the type by the bytes, not by this name or type.
        files = {"file": (Path(file).name, document, "application/octet-stream")}
        data = {"params": json_text(body)} if body else None
        return gateway.call("POST", path, params=query, headers=headers, files=files, data=data)


def _with_hint(
    error: GatewayRefusedError, args: argparse.Namespace, gateway: Gateway
) -> GatewayRefusedError:
    """A 415 says which content types the function takes; in the command's words, that is
    a FILE missing or one too many, unless the function takes documents and FILE is not
    one (the gateway's message says so already)."""
    if error.status != 415:
        return error
    if args.file and _takes_document(gateway, args.function):
        return error
    hint = (
        f"{args.function} takes JSON, not a document: leave FILE out"
        if args.file
        else f"{args.function} takes a document: give FILE (a PDF, PNG or JPEG)"
    )
    return GatewayRefusedError(error.status, error.error_type, f"{error.detail} ({hint})")


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``submit``, with the ``common`` options."""
    made = commands.add_parser(
        "submit",
        parents=[common],
        help="submit a job; print its id, or with --wait its result",
        description="Submit a job to FUNCTION. Its input is --input with each -p on top;"
        " a function that takes a document gets FILE (uploaded as multipart/form-data, the"
        " input as its params). Prints the job id on stdout; with --wait, follows the job"
        " (and its follow-ups) with a progress line on stderr and prints the result of the"
        " last one as JSON, exiting 4 if a job failed, 5 if one was cancelled.",
        epilog="example: sluice submit echo -p hello=sluice -p n=3 --wait",
    )
    made.add_argument(
        "function", metavar="FUNCTION", help="the function, as `sluice functions` lists"
    )
    made.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help="the document (PDF, PNG, JPEG) of a function that takes one",
    )
    made.add_argument(
        "-p",
        "--param",
        dest="parameters",
        type=parameter,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input field; VALUE is read as JSON when it is JSON (3, true, [1,2],"
        " '\"42\"' for the string 42), else taken as a string. F.KEY=VALUE is a field of"
        " follow-up F (--then F)",
    )
    made.add_argument(
        "--input",
        type=given_input,
        metavar="JSON",
        help="the input as JSON, or @FILE to read it from FILE (@- for stdin); -p fields go on top",
    )
    made.add_argument(
        "--then",
        type=function_names,
        action="append",
        default=[],
        metavar="F",
        help="a follow-up function, given the result of the job before it"
        " (repeat, or F1,F2, for a longer chain)",
    )
    waiting = made.add_argument_group("waiting")
    waiting.add_argument(
        "--wait",
        action="store_true",
        help="follow the job (and its follow-ups) to its end, then print the last one's result"
        " (--json: its whole status)",
    )
    waiting.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write the result to PATH instead of stdout (implies --wait)",
    )
    waiting.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="with --wait, give up after SECONDS (exit 6; the job goes on)",
    )
    options = made.add_argument_group("options of the submission")
    when = options.add_mutually_exclusive_group()
    when.add_argument(
        "--delay", type=seconds, metavar="SECONDS", help="queue the job SECONDS from now"
    )
    when.add_argument(
        "--not-before",
        metavar="TIME",
        help="queue the job at TIME (ISO 8601 with an offset or Z, e.g. 2026-12-24T18:00:00Z)",
    )
    options.add_argument(
        "--callback-url", metavar="URL", help="have the final status POSTed to URL (signed)"
    )
    options.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="submitted again with the same KEY, the first job is returned, not a second one",
    )
    made.set_defaults(run=submit)


def _takes_document(gateway: Gateway, function: str) -> bool:
    """Whether the gateway says ``function`` takes a document (False if it cannot say)."""
    try:
        listed = gateway.call("GET", "/v1/functions")["functions"]
    except (CliError, KeyError, TypeError):
        return False
    return any(f.get("name") == function and f.get("takes_document") for f in listed)
