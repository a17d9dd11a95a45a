"""scripts/demo.py, as run-local.sh --demo runs it: against a real gateway and real echo and
document consumers, it sends its floor plan through ingest?then=bom and shows the result."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

from tests.conftest import ROOT, Proc

# What scripts/make_demo_plan.py draws: 11 walls, 52.38 m of centre line, "SCALE 1:100".
WALLS = "page 1: 11 walls found (vector drawing), 52.38 m of wall centre line"
SCALE = "page 1: scale 1:100, 0.035278 m per pt, read from the drawing's scale note"
ITEMS = [
    "Drywall sheet",
    "Stud",
    "Track",
    "Drywall screws",
    "Joint tape",
    "Joint compound",
    "Paint",
]


def test_demo_shows_walls_scale_and_bill(
    start_gateway: Callable[..., str],
    start_consumer: Callable[..., Proc],
    env: dict[str, str],
) -> None:
    start_consumer("echo")
    start_consumer("ingest", "render", "bom", concurrency=2)
    url = start_gateway()
    demo = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), url],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    out = demo.stdout
    assert demo.returncode == 0, f"{out}\n{demo.stderr}"
    assert re.search(r"echo: echo-\w+ succeeded", out), out
    # Progress: each job's changes, ending in succeeded; the follow-up after the ingest.
    ingest_done = re.search(r"ingest +succeeded +100\.0 %", out)
    bom_done = re.search(r"bom +succeeded +100\.0 %", out)
    assert ingest_done and bom_done and ingest_done.start() < bom_done.start(), out
    assert WALLS in out and SCALE in out, out
    assert "bill of materials: 11 walls, 52.38 m long" in out, out
    for item in ITEMS:
        # Each main line: its item, a quantity and unit, and the quantity with overhead.
        assert re.search(rf"^  {item}.* [\d,.]+ \w+ +[\d,.]+$", out, re.MULTILINE), out
    assert out.rstrip().endswith("demo succeeded"), out
