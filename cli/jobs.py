"""``sluice status|result|cancel|artifacts ID``: one job, by the id ``submit`` printed."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from cli.arguments import positive_seconds
from cli.errors import GatewayRefusedError, GatewayUnavailableError, UsageError
from cli.follow import check_ended, follow, status_path
from cli.http import Gateway, path_segment
from cli.output import note, one_line, print_fields, print_json, print_table, save_or_print
from cli.progress import ProgressLine

# An artifact's name as the platform allows it (shared.functions.ARTIFACT_NAME): never a
# path, so a download cannot be written outside the folder asked for.
ARTIFACT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def error_text(error: Any) -> str:
    """``TimeLimitExceeded: ...`` for a job's ``error``; ``-`` for none."""
    if not isinstance(error, dict):
        return "-"
    message = one_line(str(error.get("message") or ""))
    return f"{error.get('type')}: {message}" if message else str(error.get("type"))


def status_fields(status: dict[str, Any]) -> list[tuple[str, str]]:
    """A status as ``name  value`` lines; the fields a job may lack only when it has them."""
    progress = f"{float(status.get('progress') or 0):.0f}%"
    if message := one_line(str(status.get("message") or "")):
        progress += f"  {message}"
    fields = [
        ("job", status["job_id"]),
        ("function", status["function"]),
        (
            "status",
            f"{status['status']} (function paused)" if status.get("paused") else status["status"],
        ),
        ("progress", progress),
        ("attempts", f"{status['attempts']} of {status['max_attempts']}"),
        ("created", status.get("created_at") or "-"),
        ("started", status.get("started_at") or "-"),
        ("finished", status.get("finished_at") or "-"),
        ("error", error_text(status.get("error"))),
    ]
    optional = {"not_before": "due", "previous_job_id": "previous", "next_job_id": "next"}
    fields += [(label, str(status[key])) for key, label in optional.items() if status.get(key)]
    if isinstance(callback := status.get("callback"), dict):
        last_error = f" ({callback['last_error']})" if callback.get("last_error") else ""
        fields.append(
            ("callback", f"{callback['status']} after {callback['attempts']} tries{last_error}")
        )
    return fields


def show_status(args: argparse.Namespace, gateway: Gateway) -> None:
    """The job's status; with --wait, once it has ended (exit 4 failed, 5 cancelled)."""
    if args.wait:
        with ProgressLine() as line:
            status = follow(gateway, args.id, line, timeout=args.timeout)
    else:
        status = gateway.call("GET", status_path(args.id))
    if args.json:
        print_json(status)
    else:
        print_fields(status_fields(status))
    if args.wait:
        check_ended(status)


def show_result(args: argparse.Namespace, gateway: Gateway) -> None:
    """A succeeded job's result as JSON (``null`` too: a handler may return None)."""
    response = gateway.send("GET", f"{status_path(args.id)}/result")
    try:
        result = response.json()
    except ValueError:
        raise GatewayUnavailableError(
            f"the gateway at {gateway.url} failed: the result of {args.id} is not JSON"
        ) from None
    save_or_print(result, args.output, f"the result of {args.id}")


def cancel(args: argparse.Namespace, gateway: Gateway) -> None:
    """Cancel: a job not started never runs; a running one is told to stop."""
    status = gateway.call("DELETE", status_path(args.id))
    if args.json:
        print_json(status)
    elif status["status"] == "cancelled":
        print(f"cancelled {status['job_id']}")
    else:
        print(
            f"stopping {status['job_id']}: it is {status['status']}, its consumer is told to stop"
        )


def list_artifacts(gateway: Gateway, job_id: str) -> list[dict[str, Any]]:
    """``[{"name", "content_type", "bytes", "url"}]``: the files the job saved."""
    try:
        reply = gateway.call("GET", f"{status_path(job_id)}/artifacts")
        listed: list[dict[str, Any]] = reply["artifacts"]
        return listed
    except GatewayRefusedError as error:
        if error.error_type != "not_found":  # job_not_found: a job unknown, or expired
            raise
    # A gateway without the listing route: the artifacts the job's result links to
    # (render's pages give their "url"), found by the path save_artifact returned.
    status = gateway.call("GET", status_path(job_id))
    prefix = f"/v1/jobs/{job_id}/artifacts/"
    names = sorted(
        {
            link.removeprefix(prefix)
            for link in _strings(status.get("result"))
            if link.startswith(prefix)
        }
    )
    return [{"name": name, "url": prefix + name} for name in names]


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def artifacts(args: argparse.Namespace, gateway: Gateway) -> None:
    """List the job's files; with -o DIR, download each into DIR and print its path."""
    listed = list_artifacts(gateway, args.id)
    if args.output is not None:
        folder = Path(args.output)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot make {folder}: {error.strerror or error}") from None
        for artifact in listed:
            artifact["path"] = str(_download(gateway, args.id, str(artifact["name"]), folder))
            if not args.json:
                print(artifact["path"])
        if not listed:
            note(f"job {args.id} has no artifacts")
    if args.json:
        print_json({"artifacts": listed})
    elif args.output is None:
        rows = [(a["name"], a.get("content_type") or "-", str(a.get("bytes", "-"))) for a in listed]
        print_table(("NAME", "TYPE", "BYTES"), rows)


def _download(gateway: Gateway, job_id: str, name: str, folder: Path) -> Path:
    if not ARTIFACT_NAME.fullmatch(name):
        raise GatewayUnavailableError(f"the gateway named an artifact {name!r}: not a file name")
    response = gateway.send("GET", f"{status_path(job_id)}/artifacts/{path_segment(name)}")
    target = folder / name
    try:
        target.write_bytes(response.content)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    return target


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``status``, ``result``, ``cancel`` and ``artifacts``, each with the ``common`` options."""
    shown = commands.add_parser(
        "status",
        parents=[common],
        help="a job's status; --wait: once it has ended",
        description="A job's status: progress, attempts, times, error, its chain. With --wait,"
        " follows it to its end first (a progress line on stderr) and exits 4 if it failed, 5"
        " if it was cancelled.",
    )
    shown.add_argument("id", metavar="ID", help="the job id `sluice submit` printed")
    shown.add_argument("--wait", action="store_true", help="follow the job to its end")
    shown.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="with --wait, give up after SECONDS (exit 6; the job goes on)",
    )
    shown.set_defaults(run=show_status)
    result = commands.add_parser(
        "result",
        parents=[common],
        help="a succeeded job's result",
        description="A succeeded job's result, as JSON (refused, exit 1, before it succeeded).",
    )
    result.add_argument("id", metavar="ID", help="the job id")
    result.add_argument("-o", "--output", metavar="PATH", help="write it to PATH, not stdout")
    result.set_defaults(run=show_result)
    cancelled = commands.add_parser(
        "cancel",
        parents=[common],
        help="cancel a job",
        description="Cancel a job: one not started yet (scheduled, queued, retrying) never"
        " runs; a running one is told to stop (`sluice status ID --wait` waits for it);"
        " an ended one is refused (exit 1).",
    )
    cancelled.add_argument("id", metavar="ID", help="the job id")
    cancelled.set_defaults(run=cancel)
    files = commands.add_parser(
        "artifacts",
        parents=[common],
        help="list a job's files, or download them",
        description="The files a job saved (render's page-N.png): their names and types,"
        " or with -o DIR each downloaded into DIR (made if missing), its path printed.",
    )
    files.add_argument("id", metavar="ID", help="the job id")
    files.add_argument("-o", "--output", metavar="DIR", help="download every file into DIR")
    files.set_defaults(run=artifacts)
