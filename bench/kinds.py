# mypy: disallow-untyped-calls=False
# (PyMuPDF leaves many calls untyped, as for the modules listed in pyproject.toml.)
"""Page kinds (``documents.kinds``) against the truth in bench/truth/page_kinds.json.

    .venv/bin/python -m bench.kinds [--big]

Every page of every sample in tests/data and every synthetic fixture (tests/kind_pages.py)
goes through ``ingest``; per page it prints the split (``tune``: used to set the rules;
``held_out``: not), the true kind, the kind found, ok or MISS, the time the kind step took
(``page_kind`` again on the page's text and walls, best of 5) and the reason. Then the
accuracy per split. ``--big`` adds the timing on a page of 38,000 vector paths. Exit status
1 when a page is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import pymupdf

from documents.ingest import IngestOptions, Limits, ingest_document
from documents.kinds import page_kind
from documents.model import Wall
from tests.kind_pages import FIXTURES, fixture_pdf

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TRUTH = ROOT / "bench" / "truth" / "page_kinds.json"


def _ingest(data: bytes) -> list[dict[str, Any]]:
    result = ingest_document(data, IngestOptions(), lambda *_: None, Limits())
    pages: list[dict[str, Any]] = result["pages"]
    return pages


def _step_ms(page: dict[str, Any]) -> float:
    """The kind step alone, on what ingest had: best of 5, in ms."""
    walls = [Wall(w["x1"], w["y1"], w["x2"], w["y2"], w["thickness"]) for w in page["walls"]]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        page_kind(page["width"], page["height"], page["text"], walls)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _rows() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, split, true kind, ingested page) for every page judged."""
    rows = []
    pages: dict[str, list[dict[str, Any]]] = {}
    for entry in json.loads(TRUTH.read_text())["pages"]:
        name = entry["file"]
        if name not in pages:
            pages[name] = _ingest((DATA / name).read_bytes())
        page = pages[name][entry["index"]]
        rows.append((f"{name}#{entry['index']}", entry["split"], entry["kind"], page))
    for name, (_, kind, split) in FIXTURES.items():
        rows.append((f"synthetic:{name}", split, kind, _ingest(fixture_pdf(name))[0]))
    return rows


def _big() -> None:
    random.seed(1)
    doc = pymupdf.open()
    page = doc.new_page(width=1191, height=842)
    shape = page.new_shape()
    for _ in range(38_000):
        x, y = random.uniform(20, 1100), random.uniform(20, 800)
        end = (x + random.uniform(1, 60), y) if random.random() < 0.5 else (x, y + 40)
        shape.draw_line((x, y), end)
        shape.finish(width=0.3)
    shape.commit()
    start = time.perf_counter()
    found = _ingest(bytes(doc.tobytes()))[0]
    total = time.perf_counter() - start
    print(
        f"\n38,000 paths: ingest {total:.2f} s, kind step {_step_ms(found):.1f} ms "
        f"({len(found['walls'])} walls): {found['kind']}, {found['kind_reason']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="time a 38,000-path page too")
    args = parser.parse_args()
    print(f"{'page':58} {'split':8} {'truth':9} {'found':9} {'':4} {'ms':>5}  reason")
    score: dict[str, list[bool]] = {"tune": [], "held_out": []}
    for name, split, truth, page in _rows():
        ok = page["kind"] == truth
        score[split].append(ok)
        mark = "ok" if ok else "MISS"
        print(
            f"{name[:58]:58} {split:8} {truth:9} {page['kind']:9} {mark:4} "
            f"{_step_ms(page):5.1f}  {page['kind_reason']}"
        )
    print()
    for split, oks in score.items():
        print(f"{split}: {sum(oks)}/{len(oks)} right ({sum(oks) / max(1, len(oks)):.0%})")
    if args.big:
        _big()
    return 0 if all(all(oks) for oks in score.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
