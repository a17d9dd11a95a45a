"""Scale from dimension strings paired with their dimension lines.

Each string (``documents.dimensions``) is paired with the horizontal and vertical stroked
lines near it: the two nearest on each axis whose extent reaches the text (collinear
pieces joined, across the text too when it sits in a gap of the line). A line gives two
lengths: its whole extent, and the stretch between the ticks, arrows or extension lines
that cross it on either side of the text (one link of a dimension chain). Each length
proposes metres per point = value / length. The proposal the most strings agree on
(within 2 %, or the value's rounding) wins; the result is the value that most of the
agreeing readings allow within their errors (``_settle``).

Lines are indexed by axis and offset (sorted arrays, ``searchsorted``), so a string looks
only at the lines in a narrow band around it: no pass over all pairs of segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from documents.dimensions import Box, DimText
from documents.drawings import page_cdrawings, straight_edges, to_display, white

Array = NDArray[np.float64]
AXIS_SIN = 0.02  # a segment this close to horizontal or vertical lies on that axis
JOIN_PT = 1.0  # collinear pieces closer than this are one line
OFFSET_PT = 0.5  # pieces this close across are on one line
TOUCH = 0.35  # a crossing stroke counts when within this many text heights of the line
NEAR = 1.2  # lines within this many text heights of the text (beyond its half size)
TICK_FRAC = 0.02  # oblique strokes shorter than this (of the page's side) can be ticks
TICK_MIDDLE = 0.3  # and cross the line this close to their middle (hatching: anywhere)
AGREE = 0.02  # pairs within 2 % agree
MIN_AGREE = 2  # strings that must agree for a scale from dimensions
MIN_LINE_PT = 3.0  # shorter lines measure nothing reliably
READ_PT = 0.5  # how well a line's ends are found, in points
SECOND, ACROSS, WHOLE = 0.5, 0.7, 0.5  # votes of weaker readings (see pairs_for)
ALTERNATE = 0.9  # a bare integer is millimetres first, centimetres second


@dataclass
class Axis:
    """Stroked segments along one axis: offset across it, and the interval along it."""

    off: Array
    lo: Array
    hi: Array

    @classmethod
    def of(cls, off: Array, a: Array, b: Array) -> Axis:
        order = np.argsort(off, kind="stable")
        return cls(off[order], np.minimum(a, b)[order], np.maximum(a, b)[order])


@dataclass
class Lines:
    """A page's stroked segments: horizontal, vertical and short oblique (ticks). The runs
    of each line and the stops along it are found once, when a string first asks, and kept:
    a chain of a thousand strings on one line drawn in thousands of pieces joins them once
    (``pieces_joined`` counts the pieces read to do so)."""

    axes: tuple[Axis, Axis]  # 0: horizontal (off = y, along x); 1: vertical (off = x)
    ticks: tuple[Array, Array]  # rows x1, y1, x2, y2, sorted by the middle's x; by its y
    reach: float  # the longest tick's half extent
    runs: dict[tuple[int, int], tuple[Array, Array]] = field(default_factory=dict, repr=False)
    stops: dict[tuple[int, float, float, float, float], Array] = field(
        default_factory=dict, repr=False
    )
    covers: dict[int, Axis] = field(default_factory=dict, repr=False)
    pieces_joined: int = 0

    @property
    def count(self) -> int:
        return len(self.axes[0].off) + len(self.axes[1].off) + len(self.ticks[0])

    def cover(self, k: int) -> Axis:
        """Axis ``k``'s pieces, those at the same offset that overlap made one: what a
        string needs to know which lines pass near it (one line in a thousand pieces is
        one entry, not a thousand)."""
        found = self.covers.get(k)
        if found is None:
            axis = self.axes[k]
            order = np.lexsort((axis.lo, axis.off))
            rows: list[list[float]] = []
            for off, lo, hi in zip(axis.off[order], axis.lo[order], axis.hi[order], strict=True):
                if rows and rows[-1][0] == off and lo <= rows[-1][2]:
                    rows[-1][2] = max(rows[-1][2], float(hi))
                else:
                    rows.append([float(off), float(lo), float(hi)])
            table = np.array(rows, dtype=float).reshape(-1, 3)
            found = Axis(table[:, 0], table[:, 1], table[:, 2])
            self.covers[k] = found
        return found

    def runs_at(self, k: int, key: int) -> tuple[Array, Array]:
        """The touching pieces of axis ``k`` within OFFSET_PT of ``key * OFFSET_PT`` joined
        (closer than JOIN_PT): their starts and ends, both ascending (runs do not overlap)."""
        found = self.runs.get((k, key))
        if found is None:
            axis, off = self.axes[k], key * OFFSET_PT
            a = np.searchsorted(axis.off, off - OFFSET_PT)
            b = np.searchsorted(axis.off, off + OFFSET_PT, "right")
            self.pieces_joined += int(b - a)
            joined = _merged(axis.lo, axis.hi, np.arange(a, b), (math.inf, -math.inf))
            found = (np.array([r[0] for r in joined]), np.array([r[1] for r in joined]))
            self.runs[(k, key)] = found
        return found


def page_lines(page: Any) -> Lines:
    """Stroked, solid, visible straight segments of the page, as displayed. Filled shapes
    (walls, arrowheads, symbols) measure nothing and cross nothing here."""
    rows: list[tuple[float, float, float, float]] = []
    for path in page_cdrawings(page):
        if path.get("fill") is not None or path.get("dashes") not in (None, "[] 0", "[] 0.0"):
            continue
        if path.get("color") is None or white(path["color"]):
            continue
        rows += straight_edges(path["items"], quads=False)
    raw = np.array(rows, dtype=float).reshape(-1, 4)
    segs = np.concatenate([to_display(raw[:, :2], page), to_display(raw[:, 2:], page)], 1)
    dx, dy = segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]
    length = np.hypot(dx, dy)
    flat = np.abs(dy) <= AXIS_SIN * length
    upright = np.abs(dx) <= AXIS_SIN * length
    s = max(page.rect.width, page.rect.height)
    oblique = ~flat & ~upright & (length > 0) & (length <= TICK_FRAC * s)
    h, v, t = segs[flat & (length > 0)], segs[upright & (length > 0)], segs[oblique]
    by_x = t[np.argsort(t[:, 0] + t[:, 2], kind="stable")]
    by_y = t[np.argsort(t[:, 1] + t[:, 3], kind="stable")]
    return Lines(
        (
            Axis.of((h[:, 1] + h[:, 3]) / 2, h[:, 0], h[:, 2]),
            Axis.of((v[:, 0] + v[:, 2]) / 2, v[:, 1], v[:, 3]),
        ),
        (by_x, by_y),
        float(np.abs(t[:, 2:] - t[:, :2]).max(initial=0.0)) / 2,
    )


@dataclass
class Pair:
    """A dimension string and one length it may measure."""

    dim: int  # index into the strings
    value: float  # metres
    length: float  # points
    box: Box = field(default=(0.0, 0.0, 0.0, 0.0))  # the line, as displayed
    vote: float = 1.0  # how much this reading counts towards a consensus

    @property
    def mpu(self) -> float:
        return self.value / self.length


def _merged(lo: Array, hi: Array, rows: NDArray[np.intp], gap: tuple[float, float]) -> list[Any]:
    """Join the pieces ``rows`` of one line: touching ones, and any across the text's gap."""
    order = rows[np.argsort(lo[rows], kind="stable")]
    out: list[list[float]] = []
    for k in order:
        start, end = float(lo[k]), float(hi[k])
        if out and (start <= out[-1][1] + JOIN_PT or (out[-1][1] >= gap[0] and start <= gap[1])):
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def _line_at(lines: Lines, k: int, key: int, gap: tuple[float, float]) -> list[Any]:
    """The joined line(s) at ``key`` near the text's gap, as ``_merged`` would give them
    from all the line's pieces: the runs that reach the gap (widened by a point, so the
    caller's test decides) joined across it; runs farther away cannot join it."""
    starts, ends = lines.runs_at(k, key)
    m = np.searchsorted(ends, gap[0] - 1.0)
    n = np.searchsorted(starts, gap[1] + 1.0, "right")
    return _merged(starts, ends, np.arange(m, max(m, n)), gap)


def _stops(lines: Lines, k: int, off: float, lo: float, hi: float, tol: float) -> Array:
    """Where strokes across the line (extension lines, ticks) meet it, along it (found
    once per line: every string of a chain asks about the same line)."""
    key = (k, off, lo, hi, tol)
    if key not in lines.stops:
        lines.stops[key] = _crossings(lines, k, off, lo, hi, tol)
    return lines.stops[key]


def _crossings(lines: Lines, k: int, off: float, lo: float, hi: float, tol: float) -> Array:
    cross = lines.axes[1 - k]
    a, b = (
        np.searchsorted(cross.off, lo - JOIN_PT),
        np.searchsorted(cross.off, hi + JOIN_PT, "right"),
    )
    hit = (cross.lo[a:b] <= off + tol) & (cross.hi[a:b] >= off - tol)
    found = [cross.off[a:b][hit]]
    t = lines.ticks[k]
    if len(t):
        p, q = (1, 0) if k == 0 else (0, 1)  # across and along coordinates for this axis
        mid = (t[:, q] + t[:, q + 2]) / 2
        a = np.searchsorted(mid, lo - lines.reach)
        rows = t[a : np.searchsorted(mid, hi + lines.reach, "right")]
        c0, c1 = rows[:, p], rows[:, p + 2]
        inside = (np.minimum(c0, c1) <= off + tol) & (np.maximum(c0, c1) >= off - tol)
        rows, c0, c1 = rows[inside], c0[inside], c1[inside]
        share = np.clip((off - c0) / np.where(c1 == c0, 1.0, c1 - c0), 0.0, 1.0)
        middle = np.abs(share - 0.5) <= TICK_MIDDLE  # a tick crosses through its middle
        found.append((rows[:, q] + share * (rows[:, q + 2] - rows[:, q]))[middle])
    return np.sort(np.concatenate(found))


def pairs_for(lines: Lines, index: int, dim: DimText) -> list[Pair]:
    """Every length the string may measure: per axis, the two nearest lines that reach it,
    their whole extent and the stretch between the stops around the text."""
    x0, y0, x1, y1 = dim.box
    height = min(x1 - x0, y1 - y0)
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    half = ((x1 - x0) / 2, (y1 - y0) / 2)
    out: list[Pair] = []
    for k in range(2):
        along, across = centre[k], centre[1 - k]
        near = half[1 - k] + NEAR * height
        reach = half[k] + height
        cover = lines.cover(k)
        a = np.searchsorted(cover.off, across - near)
        b = np.searchsorted(cover.off, across + near, "right")
        rows = np.arange(a, b)
        rows = rows[
            (cover.hi[rows] >= along - reach - 3 * height)
            & (cover.lo[rows] <= along + reach + 3 * height)
        ]
        offsets = sorted(
            {round(float(o) / OFFSET_PT) for o in cover.off[rows]},
            key=lambda o: abs(o * OFFSET_PT - across),
        )
        used = 0
        for key in offsets:
            if used == 2:
                break
            off = key * OFFSET_PT
            gap = (along - reach, along + reach)
            for lo, hi in _line_at(lines, k, key, gap):
                if not lo - reach <= along <= hi + reach or hi - lo < MIN_LINE_PT:
                    continue
                used += 1
                ext = TOUCH * height
                stops = _stops(lines, k, off, lo - ext, hi + ext, max(1.0, TOUCH * height))
                # A line drawn short of the extension lines (it stops at the edge of a dot
                # or arrowhead centred on them) measures from those lines.
                before, after = stops[stops < lo - 0.5], stops[stops > hi + 0.5]
                lo = float(before.max()) if len(before) else lo
                hi = float(after.min()) if len(after) else hi
                stops = np.concatenate([[lo], stops[(stops > lo + 0.5) & (stops < hi - 0.5)], [hi]])
                p = min(max(along, lo), hi)
                j = int(np.clip(np.searchsorted(stops, p), 1, len(stops) - 1))
                link = (float(stops[j - 1]), float(stops[j]))
                # A chain's whole extent is a weaker reading than the link around the text;
                # so are a farther line and one across the text's reading direction.
                vote = (1.0 if used == 1 else SECOND) * (1.0 if half[k] >= half[1 - k] else ACROSS)
                spans = {link: vote} | ({} if link == (lo, hi) else {(lo, hi): vote * WHOLE})
                for (s0, s1), weight in spans.items():
                    if s1 - s0 >= MIN_LINE_PT:
                        box = (s0, off, s1, off) if k == 0 else (off, s0, off, s1)
                        out += [
                            Pair(index, v, s1 - s0, box, weight * (ALTERNATE if n else 1.0))
                            for n, v in enumerate(dim.values)
                        ]
                break
    return out


@dataclass
class Consensus:
    """The agreed metres per point, the pairs that agree, and how many strings were read."""

    mpu: float
    agreeing: list[Pair]
    strings: int
    confidence: float


def within(pair: Pair, dims: list[DimText], mpu: float) -> bool:
    """Whether the pair agrees with ``mpu``: within 2 %, or its string's rounding."""
    return abs(math.log(pair.mpu / mpu)) <= max(AGREE, 2 * dims[pair.dim].rounding)


def _settle(agreeing: list[Pair], dims: list[DimText]) -> float:
    """The value most readings allow, given each one's error (its string's rounding and
    READ_PT at the line's ends): the middle of the stretch the most error intervals cover,
    the one nearest their weighted median (precise readings weigh most)."""
    error = [dims[p.dim].rounding + READ_PT / p.length for p in agreeing]
    mpu = [p.mpu for p in agreeing]
    order = np.argsort(mpu)
    cumulative = np.cumsum(1 / np.asarray(error)[order])
    median = mpu[int(order[np.searchsorted(cumulative, cumulative[-1] / 2)])]
    events = sorted(
        [(m * (1 - e), 1) for m, e in zip(mpu, error, strict=True)]
        + [(m * (1 + e), -1) for m, e in zip(mpu, error, strict=True)]
    )
    covered, most = 0, 0
    stretches: list[tuple[float, float]] = []
    for (x, step), (following, _) in zip(events, events[1:], strict=False):
        covered += step
        if covered > most:
            most, stretches = covered, []
        if covered == most and following > x:
            stretches.append((x, following))
    if not stretches:
        return median
    a, b = min(stretches, key=lambda s: max(s[0] - median, median - s[1], 0.0))
    return (a + b) / 2


def consensus(
    pairs: list[Pair], dims: list[DimText], bounds: tuple[float, float]
) -> Consensus | None:
    """The proposal most strings agree on (at least ``MIN_AGREE``), within ``bounds``."""
    pairs = [p for p in pairs if bounds[0] <= p.mpu <= bounds[1]]
    if not pairs:
        return None
    # One proposal per string per window: of a string's proposals closer than a window's
    # width, only its strongest votes, so a window's score is a plain sum (prefix sums,
    # no pass over all pairs of proposals).
    by_string: dict[int, list[Pair]] = {}
    for p in sorted(pairs, key=lambda p: -p.vote):
        kept = by_string.setdefault(p.dim, [])
        if all(abs(math.log(p.mpu / k.mpu)) > 2 * AGREE for k in kept):
            kept.append(p)
    voters = [p for kept in by_string.values() for p in kept]
    voters.sort(key=lambda p: p.mpu)
    logs = np.log([p.mpu for p in voters])
    votes = np.concatenate([[0.0], np.cumsum([p.vote for p in voters])])
    lengths = np.concatenate([[0.0], np.cumsum([p.length for p in voters])])
    a = np.searchsorted(logs, logs - AGREE)
    b = np.searchsorted(logs, logs + AGREE, "right")
    best = int(np.lexsort((lengths[b] - lengths[a], b - a, np.round(votes[b] - votes[a], 6)))[-1])
    centre = voters[best].mpu
    for _ in range(2):  # settle on the median of the agreeing pairs
        chosen: dict[int, Pair] = {}
        for p in pairs:
            if within(p, dims, centre):
                old = chosen.get(p.dim)
                if old is None or abs(math.log(p.mpu / centre)) < abs(math.log(old.mpu / centre)):
                    chosen[p.dim] = p
        agreeing = list(chosen.values())
        if len(agreeing) < MIN_AGREE:
            return None
        centre = _settle(agreeing, dims)
    read = len({p.dim for p in pairs})
    confidence = (1 - 0.5 ** (len(agreeing) - 1)) * math.sqrt(len(agreeing) / read)
    return Consensus(centre, agreeing, read, round(confidence, 3))
