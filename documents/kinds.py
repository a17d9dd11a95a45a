"""What a page shows: ``plan``, ``section``, ``elevation``, ``schedule``, ``text`` or ``other``.

Judged from what ``ingest`` already has (the text blocks and the walls found), never from
the drawing again: reading a page's paths once more costs as much as finding its walls
(0.3 s for 38,000 paths), this costs about a millisecond. In order:

1. prose: the text's glyphs (characters x line height², estimated) cover much of the page
   -> ``text`` (a book page, notes); a page with text and no wall at all is ``text`` too;
2. a title word (``PLAN``, ``COUPE``, ``ANSICHT``, ``SCHEDULE``...; multilingual, accents
   ignored) on a short line at least as tall as the page's usual lettering; the tallest
   wins. A schedule or legend title gives way to walls forming rooms outside the table (a
   plan with its legend is a plan);
3. tables: rows of three or more text blocks sharing column edges, or three or more
   parallel walls of one span with text between (a schedule's doubled rules); half the
   drawn area or more in tables -> ``schedule``;
4. the walls outside tables: a pitched roof (two long slanted walls meeting at a ridge) ->
   ``section``; many short walls of a few repeated lengths and no long one (window frames)
   -> ``elevation``; four or more walls in both directions, meeting -> ``plan``;
5. else ``other`` (a diagram, a blank page).

The reason names the feature that decided, with its numbers, for a person to check.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from documents.model import Wall

KINDS = ("plan", "section", "elevation", "schedule", "text", "other")
# Title words per kind, upper case without accents, matched as whole words.
TITLES: dict[str, tuple[str, ...]] = {
    "plan": ("FLOOR PLAN", "GROUND FLOOR", "FIRST FLOOR", "SECOND FLOOR", "PLAN", "LAYOUT",
             "REZ-DE-CHAUSSEE", "REZ DE CHAUSSEE", "ETAGE", "PLAN DE MASSE", "GRUNDRISS",
             "ERDGESCHOSS", "OBERGESCHOSS", "PLANTA", "PIANTA"),
    "section": ("SECTION", "COUPE", "SCHNITT", "CORTE", "SEZIONE", "DOORSNEDE"),
    "elevation": ("ELEVATION", "FACADE", "ANSICHT", "ALZADO", "PROSPETTO", "AANZICHT"),
    "schedule": ("SCHEDULE", "TABLE", "NOMENCLATURE", "LEGEND", "LEGENDE", "TABELLE",
                 "BILL OF QUANTITIES", "FINISH", "TABLEAU"),
}  # fmt: skip
TITLE_WORDS = 6  # a title line has at most this many words
PROSE_COVER = 0.2  # glyphs (estimated) covering this share of the page make it text
GLYPH_ASPECT = 0.5  # a character is about this many line heights wide
TABLE_SHARE = 0.5  # tables covering this share of the drawn area make a schedule
MIN_TABLE_ROWS = 3
PLAN_WALLS = 4  # a plan has at least this many walls (one room), in both directions, meeting
AXIS_DEG = 5.0  # walls this close to horizontal or vertical are axis walls
ROOF_FRAC = 0.2  # roof pitch lines: each at least this share of the walls' extent
APEX_FRAC = 0.05  # and their ends this close (of the extent): the ridge
MIRROR_DEG = 3.0  # and their angles sum to 180 degrees within this
ANGLE_BINS = 60  # 180 degrees in bins of MIRROR_DEG (an index for the roof test)
WINDOW_FRAC = 0.15  # window frames are shorter than this share of the walls' extent
WINDOW_SHARE = 0.6  # this share of the walls repeat one of a few lengths: an elevation
MEET_SAMPLE = 256  # wall ends tested for meeting another wall (a sample: speed)
MEET_SHARE = 0.5  # a plan's walls meet: at least this share of their ends touch another

Box = tuple[float, float, float, float]


def _plain(text: str) -> str:
    """Upper case without accents: REZ-DE-CHAUSSÉE -> REZ-DE-CHAUSSEE."""
    decomposed = unicodedata.normalize("NFKD", text.upper())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_PATTERNS = {
    kind: re.compile(r"(?<![A-Z])(" + "|".join(map(re.escape, words)) + r")(?![A-Z])")
    for kind, words in TITLES.items()
}


def _lines(text: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """Each text line with its height (its block's height over its line count)."""
    out = []
    for block in text:
        lines = block["text"].splitlines() or [""]
        height = (block["bbox"][3] - block["bbox"][1]) / len(lines)
        out += [(line.strip(), height) for line in lines if line.strip()]
    return out


def _title(lines: list[tuple[str, float]]) -> tuple[str, str] | None:
    """The kind named by the tallest short line holding a title word, and that line."""
    if not lines:
        return None
    usual = float(np.median([h for _, h in lines]))
    best: tuple[float, str, str] | None = None
    for line, height in lines:
        plain = _plain(line)
        # A sentence ("... has not yet been reached.") is a note, not a title.
        if len(plain.split()) > TITLE_WORDS or height < 0.95 * usual or line.rstrip().endswith("."):
            continue
        for kind, pattern in _PATTERNS.items():
            if pattern.search(plain) and (best is None or height > best[0]):
                best = (height, kind, line)
    return None if best is None else (best[1], best[2])


def _prose(text: Sequence[dict[str, Any]], area: float) -> float:
    """The share of the page the characters cover (estimated from their line heights)."""
    cover = 0.0
    for block in text:
        x0, y0, x1, y1 = block["bbox"]
        lines = block["text"].splitlines() or [""]
        height = (y1 - y0) / len(lines)
        glyphs = sum(len(line.strip()) for line in lines) * GLYPH_ASPECT * height * height
        cover += min((x1 - x0) * (y1 - y0), glyphs)
    return cover / area if area > 0 else 0.0


def _text_tables(text: Sequence[dict[str, Any]]) -> list[Box]:
    """Runs of rows of 3+ text blocks sharing 2+ column edges (left or right), as boxes."""
    boxes = sorted((b["bbox"] for b in text), key=lambda b: (b[1] + b[3]) / 2)
    if len(boxes) < MIN_TABLE_ROWS * 3:
        return []
    height = float(np.median([b[3] - b[1] for b in boxes]))
    rows: list[list[Box]] = []
    for box in boxes:
        mid = (box[1] + box[3]) / 2
        if rows and abs(mid - (rows[-1][0][1] + rows[-1][0][3]) / 2) <= 0.6 * height:
            rows[-1].append(box)
        else:
            rows.append([box])
    tables: list[Box] = []
    run: list[list[Box]] = []
    for row in [*rows, []]:
        if len(row) >= 3 and (not run or _shares_columns(run[-1], row, height)):
            run.append(row)
            continue
        if len(run) >= MIN_TABLE_ROWS:
            cells = [b for r in run for b in r]
            tables.append(_bounds(cells))
        run = [row] if len(row) >= 3 else []
    return tables


def _shares_columns(a: list[Box], b: list[Box], tol: float) -> bool:
    edges = [(x0, x1) for x0, _, x1, _ in a]
    same = sum(any(abs(x0 - e0) <= tol or abs(x1 - e1) <= tol for e0, e1 in edges)
               for x0, _, x1, _ in b)  # fmt: skip
    return same >= 2 and (b[0][1] - a[0][3]) <= 4 * tol


def _bounds(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))  # fmt: skip


def _wall_tables(rows: np.ndarray, text: Sequence[dict[str, Any]]) -> list[Box]:
    """Three or more horizontal (or vertical) walls of one span with text between: the
    doubled or heavy rules of a table (stairs repeat a span too, but hold no text)."""
    tables: list[Box] = []
    centres = np.array([((b["bbox"][0] + b["bbox"][2]) / 2, (b["bbox"][1] + b["bbox"][3]) / 2)
                        for b in text]).reshape(-1, 2)  # fmt: skip
    for axis in (0, 1):  # 0: horizontal walls (span along x), 1: vertical
        flat = np.abs(rows[:, 1 - axis] - rows[:, 3 - axis]) < 1e-6
        along = rows[flat][:, [axis, axis + 2]]
        across = rows[flat][:, 1 - axis]
        # One span: both ends in the same 4-unit bins (tables are ruled exactly).
        keys = np.round(np.stack([along.min(axis=1), along.max(axis=1)], 1) / 4)
        spans, group, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        for g in np.flatnonzero(counts >= MIN_TABLE_ROWS):
            members = group.reshape(-1) == g
            lo, hi = float(spans[g, 0] * 4), float(spans[g, 1] * 4)
            low, high = float(across[members].min()), float(across[members].max())
            box = (lo, low, hi, high) if axis == 0 else (low, lo, high, hi)
            if np.count_nonzero(_inside(centres, box, 0.0)) >= MIN_TABLE_ROWS:
                tables.append(box)
    return tables


def _inside(points: np.ndarray, box: Box, pad: float) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    return (x >= box[0] - pad) & (x <= box[2] + pad) & (y >= box[1] - pad) & (y <= box[3] + pad)


def _union_area(boxes: list[Box]) -> float:
    """Area covered by boxes (a coarse 64 x 64 grid over their bounds: few boxes, cheap)."""
    if not boxes:
        return 0.0
    x0, y0, x1, y1 = _bounds(boxes)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    xs, ys = np.linspace(x0, x1, 65)[:-1], np.linspace(y0, y1, 65)[:-1]
    hit = np.zeros((64, 64), dtype=bool)
    for b in boxes:
        hit |= ((ys >= b[1]) & (ys < b[3]))[:, None] & ((xs >= b[0]) & (xs < b[2]))[None, :]
    return float(hit.mean()) * (x1 - x0) * (y1 - y0)


def _roof(rows: np.ndarray, extent: float) -> bool:
    """Two long slanted walls mirrored about an axis whose ends meet: a pitched roof."""
    return roof_pairs(rows, extent)[0]


def roof_pairs(rows: np.ndarray, extent: float) -> tuple[bool, int]:
    """Whether a pitched roof is there (``_roof``), and how many pairs of walls were
    compared to tell. Each long slanted wall's ends go in a grid of cells as wide as the
    ridge's reach, keyed with the wall's angle in 3-degree bins; a wall is compared only with
    walls of the mirrored angle that have an end in a cell next to its own: hatching of
    thousands of parallel slanted lines compares nothing (no pass over all pairs)."""
    dx, dy = rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]
    angle = np.degrees(np.arctan2(dy, dx)) % 180
    slanted = (np.abs((angle + 90) % 90 - 45) < 45 - AXIS_DEG) & (
        np.hypot(dx, dy) >= ROOF_FRAC * extent
    )
    reach = APEX_FRAC * extent
    cell = reach * 1.001  # ends within reach are in neighbouring cells, rounding included
    cells: dict[tuple[int, int, int], list[int]] = {}
    ks = np.flatnonzero(slanted)
    corner = np.floor(rows[ks, :4] / cell).astype(np.int64)
    bins = np.floor(angle[ks] / MIRROR_DEG).astype(np.int64) % ANGLE_BINS
    for n, i in enumerate(ks):
        for cx, cy in {(corner[n, 0], corner[n, 1]), (corner[n, 2], corner[n, 3])}:
            cells.setdefault((int(cx), int(cy), int(bins[n])), []).append(int(i))
    compared = 0
    for n, i in enumerate(ks):
        # The mirrored angle is 180 - angle (+- 3 degrees): its bin and two either side
        # (one would do; two keep rounding at a bin's edge from losing a pair).
        mirror = int(np.floor((180 - angle[i]) / MIRROR_DEG))
        candidates: set[int] = set()
        for cx, cy in {(corner[n, 0], corner[n, 1]), (corner[n, 2], corner[n, 3])}:
            for ex in (-1, 0, 1):
                for ey in (-1, 0, 1):
                    for b in range(mirror - 2, mirror + 3):
                        key = (int(cx) + ex, int(cy) + ey, b % ANGLE_BINS)
                        candidates.update(cells.get(key, ()))
        for j in sorted(c for c in candidates if c > i):
            compared += 1
            if _ridge(rows, angle, int(i), j, reach):
                return True, compared
    return False, compared


def _ridge(rows: np.ndarray, angle: np.ndarray, i: int, j: int, reach: float) -> bool:
    """Walls i and j are mirrored (their angles sum to 180 within 3 degrees, and are not
    the same line) and an end of one is within ``reach`` of an end of the other."""
    mirrored = abs((angle[i] + angle[j] + 90) % 180 - 90) < MIRROR_DEG and abs(
        angle[i] - angle[j]) > 10  # fmt: skip
    ends_i, ends_j = rows[i, :4].reshape(2, 2), rows[j, :4].reshape(2, 2)
    gap = np.hypot(*(ends_i[:, None, :] - ends_j[None, :, :]).transpose(2, 0, 1)).min()
    return bool(mirrored and gap <= reach)


def _windows(lengths: np.ndarray, extent: float) -> float:
    """Share of the walls, all short, whose length three others repeat (window frames)."""
    if len(lengths) < 8 or lengths.max() >= WINDOW_FRAC * extent:
        return 0.0
    ordered = np.sort(lengths)
    tol = 0.03 * ordered + 0.5
    alike = np.searchsorted(ordered, ordered + tol, "right") - np.searchsorted(
        ordered, ordered - tol
    )
    return float(np.mean(alike >= 4))


def _meeting(rows: np.ndarray) -> float:
    """The share of wall ends within reach (the thicker wall's thickness plus 1 unit) of
    another wall; from at most MEET_SAMPLE ends, evenly spread, so it stays cheap."""
    if len(rows) < 2:
        return 0.0
    a, ab = rows[:, 0:2], rows[:, 2:4] - rows[:, 0:2]
    length2 = np.maximum((ab * ab).sum(axis=1), 1e-18)
    ends = np.concatenate([rows[:, 0:2], rows[:, 2:4]])
    owner = np.concatenate([np.arange(len(rows))] * 2)
    pick = np.unique(np.linspace(0, len(ends) - 1, min(len(ends), MEET_SAMPLE)).astype(int))
    ends, owner = ends[pick], owner[pick]
    count = 0
    for k in range(0, len(ends), 256):  # in chunks: memory stays small for 10,000 walls
        end, own = ends[k : k + 256], owner[k : k + 256]
        rel = end[:, None, :] - a[None, :, :]
        t = np.clip((rel * ab[None]).sum(-1) / length2[None], 0, 1)
        gap = rel - t[..., None] * ab[None]
        dist = np.hypot(gap[..., 0], gap[..., 1])
        dist[np.arange(len(end)), own] = np.inf
        reach = np.maximum(rows[own, 4][:, None], rows[None, :, 4]) + 1.0
        count += int(np.count_nonzero((dist <= reach).any(axis=1)))
    return count / len(ends)


def page_kind(
    width: float, height: float, text: Sequence[dict[str, Any]], walls: Sequence[Wall]
) -> dict[str, str]:
    """``{"kind", "kind_reason"}`` for a page (see the module docstring)."""
    kind, reason = _decide(width, height, text, walls)
    return {"kind": kind, "kind_reason": reason}


def _decide(
    width: float, height: float, text: Sequence[dict[str, Any]], walls: Sequence[Wall]
) -> tuple[str, str]:
    chars = sum(len(b["text"]) for b in text)
    prose = _prose(text, width * height)
    if prose >= PROSE_COVER:
        return "text", f"text covers {prose:.0%} of the page ({chars} characters)"
    rows = np.array([(w.x1, w.y1, w.x2, w.y2, w.thickness) for w in walls]).reshape(-1, 5)
    tables = _text_tables(text) + _wall_tables(rows, text)
    mids = (rows[:, 0:2] + rows[:, 2:4]) / 2
    outside = np.ones(len(rows), dtype=bool)
    for box in tables:
        outside &= ~_inside(mids, box, 2.0)
    rest = rows[outside]
    geometry, why = _geometry(rest)
    title = _title(_lines(text))
    if title is not None and not (title[0] == "schedule" and geometry == "plan"):
        return title[0], f"title '{title[1]}'"
    drawn = [b["bbox"] for b in text]
    drawn += [(min(w[0], w[2]), min(w[1], w[3]), max(w[0], w[2]), max(w[1], w[3])) for w in rows]
    if tables and geometry != "plan":
        x0, y0, x1, y1 = _bounds(drawn)
        share = _union_area(tables) / max((x1 - x0) * (y1 - y0), 1e-9)
        if share >= TABLE_SHARE:
            return "schedule", f"{min(share, 1.0):.0%} of the drawn area is a table"
    if geometry != "other":
        return geometry, why + (" (beside a table)" if tables else "")
    if not len(rows):
        if chars:
            return "text", f"text only ({chars} characters), no walls"
        return "other", "no text and no walls"
    return "other", why


def _geometry(rows: np.ndarray) -> tuple[str, str]:
    """A kind from the walls alone (``other`` when they say nothing) and why."""
    n = len(rows)
    if n == 0:
        return "other", "no walls"
    dx, dy = np.abs(rows[:, 2] - rows[:, 0]), np.abs(rows[:, 3] - rows[:, 1])
    lengths = np.hypot(dx, dy)
    extent = max(float(np.ptp(rows[:, [0, 2]])), float(np.ptp(rows[:, [1, 3]])), 1e-9)
    if _roof(rows, extent):
        return "section", f"two long pitched lines meet at a ridge (a roof cut), {n} walls"
    windows = _windows(lengths, extent)
    if windows >= WINDOW_SHARE:
        return "elevation", f"{windows:.0%} of {n} short walls repeat a few sizes (windows)"
    slope = math.tan(math.radians(AXIS_DEG))
    across, along = int(np.sum(dy <= slope * dx)), int(np.sum(dx <= slope * dy))
    meet = _meeting(rows)
    if n >= PLAN_WALLS and min(across, along) >= 2 and meet >= MEET_SHARE:
        return "plan", (
            f"{n} walls ({across} horizontal, {along} vertical), {meet:.0%} of their ends"
            " meet another wall"
        )
    return "other", f"{n} walls, too few or not meeting to form rooms"
