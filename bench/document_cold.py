"""What a document job would pay without warm children (fresh interpreters importing the
libraries), next to the per-job fixed cost in the system (a tiny ingest, one at a time)."""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import time

import pymupdf

from bench.document_runs import forget
from bench.document_workloads import call_directly
from bench.measure import epoch
from bench.processes import ROOT
from shared.client import Sluice
from shared.jobs import SUCCEEDED

COLD_IMPORTS = (
    "pass",
    "import pymupdf",
    "import pymupdf, cv2, numpy",
    "import documents.ingest, documents.raster, documents.render",
)
# Printed by each fresh interpreter as it ends: its own peak RSS in kB. (The rusage of a
# child is no good here: its max RSS starts at this process's size, inherited at fork.)
_PEAK_RSS = "\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"


@dataclasses.dataclass
class Cold:
    label: str
    seconds: float
    rss_mb: float


def cold_import(code: str, runs: int) -> Cold:
    """Median wall time and peak RSS of ``python -c CODE`` in fresh interpreters."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times, rss = [], []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code + _PEAK_RSS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - began)
        if done.returncode:
            raise RuntimeError(f"python -c {code!r} exited with {done.returncode}:{done.stderr}")
        rss.append(int(done.stdout.split()[-1]) / 1024)
    return Cold(f"python -c '{code}'", statistics.median(times), statistics.median(rss))


def tiny_pdf() -> bytes:
    """A 1-page vector PDF with one line and one text line: almost no work to ingest."""
    document = pymupdf.open()
    page = document.new_page(width=300, height=200)
    page.draw_line((20, 20), (280, 20), width=4)
    page.insert_text((20, 60), "tiny plan, scale 1:100")
    data = bytes(document.tobytes())
    document.close()
    return data


@dataclasses.dataclass
class Fixed:
    """Per-job fixed cost: a tiny ingest, direct and end to end (milliseconds)."""

    direct: list[float] = dataclasses.field(default_factory=list)
    e2e: list[float] = dataclasses.field(default_factory=list)
    pickup: list[float] = dataclasses.field(default_factory=list)
    running: list[float] = dataclasses.field(default_factory=list)
    first: list[float] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)


async def fixed_cost(sluice: Sluice, jobs: int, fixed: Fixed) -> None:
    """Tiny ingests one at a time, submit to succeeded; the first one on a fresh consumer
    is kept apart (it shows whether the child was warm before its first job)."""
    data = tiny_pdf()
    job_ids = []
    for n in range(jobs + 1):
        began = time.time()
        job = await sluice.submit_document("ingest", data, {})
        job_ids.append(job.job_id)
        status = await sluice.wait(job.job_id, timeout=60, poll=0.002)
        if status.status != SUCCEEDED:
            fixed.problems.append(f"tiny ingest {status.status}: {status.error}")
            continue
        e2e = (epoch(status.finished_at) - began) * 1000
        if n == 0:
            fixed.first.append(e2e)
            continue
        fixed.e2e.append(e2e)
        fixed.pickup.append((epoch(status.started_at) - epoch(status.created_at)) * 1000)
        fixed.running.append((epoch(status.finished_at) - epoch(status.started_at)) * 1000)
    await forget(sluice, job_ids)
    for _ in range(jobs):
        began_direct = time.perf_counter()
        call_directly("ingest", data, {})
        fixed.direct.append((time.perf_counter() - began_direct) * 1000)
