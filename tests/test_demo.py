"""scripts/demo.py, as run-local.sh --demo runs it: against a real gateway (uvicorn) and the
echo and document consumers (in this process), it sends its floor plan through
ingest?then=bom and shows the result."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable

import pytest

from shared.settings import Settings
from tests.conftest import ROOT
from tests.inprocess import serving

pytestmark = pytest.mark.any_redis

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


async def test_demo_shows_walls_scale_and_bill(
    start_gateway: Callable[..., str], env: dict[str, str], settings: Settings
) -> None:
    url = start_gateway()
    async with (
        serving(settings, "echo"),
        serving(settings, "ingest", "render", "bom", concurrency=2),
    ):
        demo = await asyncio.create_subprocess_exec(
            *(sys.executable, str(ROOT / "scripts" / "demo.py"), url),
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(demo.communicate(), 150)
    out = stdout.decode()
    assert demo.returncode == 0, f"{out}\n{stderr.decode()}"
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
