"""Speed of the raster wall finder on 300 dpi pages.

    .venv/bin/python -m bench.raster_speed [--runs N]

Pages: the CFAST ranch plan (tests/data/cfast_UL_NIJ_Ranch_layout.pdf) rendered in
grayscale to fill an A3 sheet at 300 dpi (4961 x 3508 px) and an A1 sheet (9933 x 7016
px), and the two MLSTRUCT floors (~9500 x 6700 px PNGs, RGBA). Each run is a fresh
process (as bench/walls_recall.py) that prepares the page untimed, then times with
``time.perf_counter``: ``raster_walls`` on the grayscale page, ``load_image`` of the
page's PNG bytes followed by ``raster_walls``, the whole ``ingest`` of the PNG (walls,
openings, rooms, kind) and of a scanned PDF holding it at 300 dpi (rendering included).
Printed: medians over the runs, in seconds, and the process CPU time of
``raster_walls`` (the machine has 2 cores shared with other work, so the wall-clock time
also shows the load). Goal: under 2 s for a 300 dpi page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pymupdf

from documents.ingest import IngestOptions, Limits, ingest_document
from documents.raster import load_image, raster_walls

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
RANCH = DATA / "cfast_UL_NIJ_Ranch_layout.pdf"
SHEETS = {"A3": (4961, 3508), "A1": (9933, 7016)}
MAX_PIXELS = 200_000_000
GOAL_SECONDS = 2.0


def ranch_page(sheet: str) -> np.ndarray:
    """The ranch plan rendered in grayscale, fitted into the sheet's pixels at 300 dpi."""
    width, height = SHEETS[sheet]
    with pymupdf.open(RANCH) as document:  # type: ignore[no-untyped-call]
        page = document[0]
        zoom = min(width / page.rect.width, height / page.rect.height)
        matrix = pymupdf.Matrix(zoom, zoom)  # type: ignore[no-untyped-call]
        pixmap = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY)
        gray = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.stride)
        gray = gray[:, : pixmap.width]
    sheet_gray = np.full((height, width), 255, np.uint8)
    sheet_gray[: gray.shape[0], : gray.shape[1]] = gray[:height, :width]
    return sheet_gray


def page_png(name: str) -> bytes:
    """The page as PNG bytes: the rendered ranch sheet, or the MLSTRUCT floor's file."""
    if name in SHEETS:
        ok, png = cv2.imencode(".png", ranch_page(name))
        assert ok
        return bytes(png.tobytes())
    fp = json.loads((DATA / "fp.json").read_text())
    return (DATA / str(fp["floor"][name]["image"])).read_bytes()


def _child(name: str) -> None:
    data = page_png(name)
    gray = load_image(data, MAX_PIXELS)
    began, cpu = time.perf_counter(), time.process_time()
    walls = raster_walls(gray)
    walls_s, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    began = time.perf_counter()
    raster_walls(load_image(data, MAX_PIXELS))
    load_s = time.perf_counter() - began
    limits = Limits(max_pixels=MAX_PIXELS)
    began = time.perf_counter()
    ingest_document(data, IngestOptions(), lambda *_: None, limits)
    ingest_s = time.perf_counter() - began
    scan = _scan_pdf(data, gray.shape)
    began = time.perf_counter()
    ingest_document(scan, IngestOptions(dpi=300), lambda *_: None, limits)
    scan_s = time.perf_counter() - began
    size = f"{gray.shape[1]} x {gray.shape[0]}"
    print(json.dumps({"size": size, "walls": len(walls), "walls_s": walls_s, "cpu_s": cpu_s,
                      "load_s": load_s, "ingest_s": ingest_s, "scan_s": scan_s}))  # fmt: skip


def _scan_pdf(png: bytes, shape: tuple[int, ...]) -> bytes:
    """A PDF page holding the image at 300 dpi, as a scanner makes one."""
    document: Any = pymupdf.open()  # type: ignore[no-untyped-call]
    page = document.new_page(width=shape[1] * 72 / 300, height=shape[0] * 72 / 300)
    page.insert_image(page.rect, stream=png)
    return bytes(document.tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per page")
    parser.add_argument("--page", action="append", help="A3, A1 or an MLSTRUCT floor id")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    print(
        "page         size           walls  raster_walls s  (cpu s)  load+walls s"
        "  ingest PNG s  ingest scan s"
    )
    ok = True
    for name in args.page or ["A3", "A1", "302", "748"]:
        rows = []
        for _ in range(args.runs):
            command = [sys.executable, "-m", "bench.raster_speed", "--child", name]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.splitlines()[-1]))
        median = {
            k: statistics.median(r[k] for r in rows)
            for k in ("walls_s", "cpu_s", "load_s", "ingest_s", "scan_s")
        }
        ok = ok and median["walls_s"] < GOAL_SECONDS
        label = f"ranch {name}" if name in SHEETS else f"MLSTRUCT {name}"
        print(f"{label:<12} {rows[0]['size']:<14} {rows[0]['walls']:>5}  {median['walls_s']:>14.2f}"
              f"  ({median['cpu_s']:.2f})  {median['load_s']:>12.2f}  {median['ingest_s']:>12.2f}"
              f"  {median['scan_s']:>13.2f}")  # fmt: skip
    print(f"goal: raster_walls under {GOAL_SECONDS} s per page: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
