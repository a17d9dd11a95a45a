"""The demo, over HTTP as curl would do it: an echo job, then a floor plan through
``ingest?then=bom``, with the jobs' progress as it changes and the walls, scale and bill of
materials that come back.

    python scripts/demo.py http://127.0.0.1:8000

Exits 1 with a message on stderr when a job fails or nothing comes back in time.
"""

from __future__ import annotations

import io
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from make_demo_plan import draw_plan

TIMEOUT = 120.0  # seconds for each part (echo; ingest and bom together) to finish
POLL = 0.2  # seconds between two status requests for one job
FINAL = ("succeeded", "failed", "cancelled")
POINT_M = 0.0254 / 72  # a PDF point on paper, in metres: 1:100 is 100 x this per point
SCALE_SOURCES = {
    "note": "read from the drawing's scale note",
    "dimensions": "measured from the drawing's dimension strings",
    "scale_bar": "measured from the drawing's scale bar",
    "parameter": "given as a parameter",
}


class DemoError(Exception):
    """The demo cannot go on; its message says why."""


def call(
    method: str, url: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    """One request: its status code and JSON reply (an error status is a reply too)."""
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:  # uvicorn's own refusals are plain text
        return status, {"error": {"type": "http", "message": raw.decode(errors="replace")}}


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if call("GET", f"{base}/readyz")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise DemoError(f"the gateway at {base} did not become ready within 60 s")
        time.sleep(0.2)


def follow(base: str, job_id: str, deadline: float, started: float) -> dict[str, Any]:
    """Poll a job until it ends, printing each change of its status, progress or message.

    A chain's follow-up may answer 404 for a moment after the job before it ends (it is
    queued just after), so 404 counts as "not there yet" until the deadline.
    """
    name = job_id.split("-", 1)[0]
    seen: tuple[Any, ...] | None = None
    while True:
        code, job = call("GET", f"{base}/v1/jobs/{job_id}")
        if code == 200:
            state = (job["status"], job.get("progress"), job.get("message"))
            if state != seen:
                seen = state
                progress = f"{float(state[1] or 0):5.1f} %"
                message = f"  {state[2]}" if state[2] else ""
                elapsed = time.monotonic() - started
                print(f"  {elapsed:6.2f} s  {name:<7} {state[0]:<10} {progress}{message}")
            if job["status"] in FINAL:
                return dict(job)
        elif code != 404:
            raise DemoError(f"GET /v1/jobs/{job_id} answered {code}: {json.dumps(job)}")
        if time.monotonic() > deadline:
            last = seen[0] if seen else "not found"
            raise DemoError(f"{job_id} did not finish within {TIMEOUT:g} s (last: {last})")
        time.sleep(POLL)


def succeeded(job: dict[str, Any]) -> Any:
    if job["status"] != "succeeded":
        error = job.get("error") or {}
        reason = f"{error.get('type')}: {error.get('message')}" if error else "no error given"
        raise DemoError(f"{job['job_id']} ended {job['status']} ({reason})")
    return job["result"]


def echo(base: str) -> None:
    """The short check that the gateway and the echo consumer answer."""
    started = time.monotonic()
    code, submitted = call("POST", f"{base}/v1/jobs/echo", b'{"hello": "sluice"}')
    if code != 202:
        raise DemoError(f"POST /v1/jobs/echo answered {code}: {json.dumps(submitted)}")
    job_id = submitted["job_id"]
    deadline = started + TIMEOUT
    while True:
        job = call("GET", f"{base}/v1/jobs/{job_id}")[1]
        if job.get("status") in FINAL:
            break
        if time.monotonic() > deadline:
            raise DemoError(f"{job_id} did not finish within {TIMEOUT:g} s")
        time.sleep(0.05)
    result = succeeded(job)
    took = time.monotonic() - started
    print(f"echo: {job_id} {job['status']} in {took:.2f} s, result {json.dumps(result)}")


def plan(base: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo plan through ingest?then=bom: both jobs' final statuses."""
    pdf = draw_plan()
    print()
    print("floor plan: a 12 x 8 m flat at 1:100 on A4 (python scripts/make_demo_plan.py plan.pdf)")
    print(
        f"$ curl -X POST '{base}/v1/jobs/ingest?then=bom' "
        "-H 'Content-Type: application/pdf' --data-binary @plan.pdf"
    )
    started = time.monotonic()
    code, submitted = call("POST", f"{base}/v1/jobs/ingest?then=bom", pdf, "application/pdf")
    if code != 202:
        raise DemoError(f"POST /v1/jobs/ingest answered {code}: {json.dumps(submitted)}")
    print(f"{code} job {submitted['job_id']}, then {submitted['next_job_id']}")
    deadline = started + TIMEOUT
    ingest = follow(base, submitted["job_id"], deadline, started)
    succeeded(ingest)
    bom = follow(base, submitted["next_job_id"], deadline, started)
    succeeded(bom)
    return ingest, bom


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def report(ingest: dict[str, Any], bom: dict[str, Any]) -> None:
    """What came back: walls and scale per page, then the bill's lines and totals."""
    print()
    for page in ingest["result"]["pages"]:
        walls, unit = page["walls"], page["unit"]
        metres = sum(wall.get("length_m", 0.0) for wall in walls)
        print(
            f"page {page['page']}: {len(walls)} walls found ({page['source']} drawing), "
            f"{metres:.2f} m of wall centre line"
        )
        scale = page["scale"]
        if scale is None:
            print(f"page {page['page']}: no scale found")
            continue
        ratio = f"1:{scale['metres_per_unit'] / POINT_M:.4g}, " if unit == "pt" else ""
        source = SCALE_SOURCES.get(scale["source"], scale["source"])
        print(
            f"page {page['page']}: scale {ratio}{scale['metres_per_unit']:.6f} m per {unit}, "
            f"{source}"
        )
    result = bom["result"]
    totals = result["totals"]
    print()
    print(
        f"bill of materials: {totals['walls']} walls, {totals['wall_length_m']:.2f} m long, "
        f"{totals['wall_area_m2']:.1f} m² per face, {totals['board_area_m2']:.1f} m² of board"
    )
    overhead = f"with {totals['overhead_percent']:g} % overhead"
    print(f"  {'item':<30} {'quantity':>10} {'unit':<7} {overhead:>22}")
    for line in result["lines"]:
        quantity, extra = _number(line["quantity"]), _number(line["quantity_with_overhead"])
        print(f"  {line['item']:<30} {quantity:>10} {line['unit']:<7} {extra:>22}")


def main(base: str) -> int:
    try:
        wait_ready(base)
        echo(base)
        ingest, bom = plan(base)
        report(ingest, bom)
    except DemoError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"demo failed: cannot reach the gateway at {base}: {error}", file=sys.stderr)
        return 1
    print()
    print("demo succeeded")
    return 0


if __name__ == "__main__":
    # Progress lines must show as they happen when the output is a pipe or a CI log too.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
