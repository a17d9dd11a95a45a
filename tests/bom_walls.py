"""What the bill of materials tests share: PDF scales, walls of a given length, the
bill's quantities, and an ingest-like result in PDF points."""

from __future__ import annotations

from typing import Any

from documents.bom import BomResult
from documents.model import Wall

PT = 0.0254 / 72  # one PDF point in metres at full size
SCALE_1_100 = PT * 100
SCALE_1_50 = PT * 50


def horizontal(length: float) -> Wall:
    return Wall(x1=0, y1=0, x2=length, y2=0, thickness=0.1)


def quantities(result: BomResult) -> dict[str, int | float]:
    return {line.key: line.quantity for line in result.lines}


def with_overhead(result: BomResult) -> dict[str, int | float]:
    return {line.key: line.quantity_with_overhead for line in result.lines}


def ingest_result(second_scale: dict[str, Any] | None) -> dict[str, Any]:
    """An ingest-like result in PDF points, with the extra fields real results carry."""
    return {
        "pages": [
            {
                "index": 0,
                "width": 1190.55,
                "height": 841.89,
                "source": "vector",
                "scale": {"metres_per_unit": SCALE_1_100, "source": "text"},
                "walls": [
                    # 360 pt = 5 in = 127 mm on paper = 12.7 m at 1:100.
                    {"x1": 100, "y1": 100, "x2": 460, "y2": 100, "thickness": 7.09},
                    # 216 by 288 pt: a 3-4-5 triangle, so 360 pt again = 12.7 m.
                    {"x1": 100, "y1": 100, "x2": 316, "y2": 388, "thickness": 7.09},
                ],
                "text": [{"text": "1:100", "bbox": [10, 10, 40, 20]}],
            },
            {
                "index": 1,
                "width": 1190.55,
                "height": 841.89,
                "source": "vector",
                "scale": second_scale,
                # 144 pt = 2 in = 50.8 mm on paper = 2.54 m at 1:50.
                "walls": [{"x1": 50, "y1": 50, "x2": 50, "y2": 194, "thickness": 3.5}],
                "text": [],
            },
            # A cover page: no walls, so it needs no scale.
            {
                "index": 2,
                "width": 595,
                "height": 842,
                "source": "raster",
                "scale": None,
                "walls": [],
                "text": [],
            },
        ],
        "document": {"pages": 3, "producer": "test"},
    }
