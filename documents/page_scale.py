"""A page's drawing scale: from its dimension strings and lines, and from its scale notes.

``page_scale`` gives ``{"metres_per_unit", "source", "confidence", "evidence", ...}`` or
None, and the page's warnings. Dimensions measure the drawing as plotted, a note says what
it was drawn at: when both are there and agree (2 %) the note's exact value is kept; when
they disagree a warning says so and the dimensions win if three or more strings agree
(a sheet plotted at another size keeps its note), else the note. "NOT TO SCALE" / "NTS"
gives no scale from notes and is listed in the evidence (a warning when no scale is left).
Graphic scale bars (``documents.scale_bar``) come last: see ``_with_bars`` for which wins.

When the dimension strings fall into two groups at different scales in separate parts of
the sheet (a plan and a detail), ``regions`` lists each group's box and scale; the page's
scale is the larger group's. Notes are not scoped to regions: one per page.
"""

from __future__ import annotations

from typing import Any

from documents.dimensions import Box, DimText, TextLine, dimension_strings
from documents.dimlines import Consensus, consensus, page_lines, pairs_for, within
from documents.scale import KEYWORD, MAX_RATIO, NOT_TO_SCALE, POINT_M, scale_from_text
from documents.scale_bar import Bar, scale_bars

AGREE = 0.02  # a note and the dimensions agree within 2 %
STRONG = 3  # agreeing strings that outweigh a disagreeing note
MIN_REGION = 3  # strings a second region needs
EVIDENCE = 8  # dimension pairs listed, longest lines first
NOTE_CONFIDENCE = {True: 0.9, False: 0.6}  # a note with a "scale" word, a bare ratio
BESIDE = 0.1  # a bar this close to a note (of the page's shorter side) labels the same view


def _rounded(box: Box) -> list[float]:
    return [round(v, 1) for v in box]


def _ratio(mpu: float) -> str:
    return f"1:{mpu / POINT_M:.4g}"


def _dimension_evidence(found: Consensus, dims: list[DimText]) -> list[dict[str, Any]]:
    best = sorted(found.agreeing, key=lambda p: -p.length)[:EVIDENCE]
    return [
        {
            "kind": "dimension",
            "text": dims[p.dim].text,
            "metres": round(p.value, 4),
            "length": round(p.length, 2),
            "bbox": _rounded(dims[p.dim].box),
            "line": _rounded(p.box),
        }
        for p in best
    ]


def _span(found: Consensus, dims: list[DimText]) -> Box:
    boxes = [dims[p.dim].box for p in found.agreeing]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _apart(first: Consensus, second: Consensus, dims: list[DimText]) -> bool:
    """The second group's box holds at most one of the first group's strings (a stray
    string far from its group must not make the groups overlap)."""
    x0, y0, x1, y1 = _span(second, dims)
    inside = 0
    for p in first.agreeing:
        b = dims[p.dim].box
        inside += x0 <= (b[0] + b[2]) / 2 <= x1 and y0 <= (b[1] + b[3]) / 2 <= y1
    return inside <= 1


def _dimensions(page: Any, dims: list[DimText]) -> list[Consensus]:
    """The dimensions' consensus; two when a second group at another scale lies apart."""
    if len(dims) < 2:
        return []
    lines = page_lines(page)
    pairs = [p for i, dim in enumerate(dims) for p in pairs_for(lines, i, dim)]
    bounds = (POINT_M, MAX_RATIO * POINT_M)
    first = consensus(pairs, dims, bounds)
    if first is None:
        return []
    used = {p.dim for p in first.agreeing}
    second = consensus([p for p in pairs if p.dim not in used], dims, bounds)
    if (
        second is not None
        and len(second.agreeing) >= MIN_REGION
        and abs(second.mpu / first.mpu - 1) > AGREE
        and _apart(first, second, dims)
    ):
        return [first, second]
    return [first]


def _consistent(found: Consensus, dims: list[DimText], note: float) -> bool:
    """The note agrees with the dimensions: within 2 % of their consensus, or of half the
    agreeing readings at least (given their strings' rounding, "2.3" for 2.34 m)."""
    agree = sum(within(p, dims, note) for p in found.agreeing)
    return abs(found.mpu / note - 1) <= AGREE or 2 * agree >= len(found.agreeing)


def _other_unit(found: Consensus, dims: list[DimText], note: float) -> bool:
    """The dimensions are bare numbers ("13800") and agree with the note read in another
    unit (millimetres, not centimetres): the note settles which."""
    bare = not any(dims[p.dim].unit for p in found.agreeing)
    return bare and any(abs(found.mpu * k / note - 1) <= AGREE for k in (0.1, 10.0))


def _notes(lines: list[TextLine]) -> tuple[float | None, list[dict[str, Any]], bool]:
    """The notes' scale (``scale_from_text``), the lines saying it, and whether one has a
    "scale" word (more trusted than a bare ratio)."""
    value = scale_from_text([line.text for line in lines])
    if value is None:
        return None, [], False
    saying = [line for line in lines if scale_from_text([line.text]) == value]
    evidence = [
        {"kind": "note", "text": line.text, "bbox": _rounded(line.bbox)} for line in saying[:3]
    ]
    keyword = any(KEYWORD.search(line.text) or ":" not in line.text for line in saying)
    return value, evidence, keyword or not saying


def page_scale(
    page: Any, lines: list[TextLine], vector: bool
) -> tuple[dict[str, Any] | None, list[str]]:
    """The page's scale and its warnings (see the module docstring). ``vector``: the page
    is drawn in vectors, so its dimension lines can be measured (not a scan)."""
    warnings: list[str] = []
    nts = [
        {"kind": "not_to_scale", "text": line.text, "bbox": _rounded(line.bbox)}
        for line in lines
        if NOT_TO_SCALE.search(line.text)
    ][:3]
    dims = dimension_strings(lines) if vector else []
    groups = _dimensions(page, dims)
    note, note_evidence, keyword = _notes(lines)
    scale: dict[str, Any] | None = None
    if groups:
        found = groups[0]
        scale = {
            "metres_per_unit": found.mpu,
            "source": "dimensions",
            "confidence": found.confidence,
            "evidence": _dimension_evidence(found, dims),
            "dimensions": {"agreeing": len(found.agreeing), "read": found.strings},
        }
        if len(groups) > 1:
            scale["regions"] = [
                {
                    "bbox": _rounded(_span(g, dims)),
                    "metres_per_unit": g.mpu,
                    "confidence": g.confidence,
                    "source": "dimensions",
                    "agreeing": len(g.agreeing),
                }
                for g in groups
            ]
            warnings.append(
                "the dimensions show two scales in separate parts of the sheet: "
                f"{_ratio(groups[0].mpu)} and {_ratio(groups[1].mpu)} (see scale.regions); "
                "scale is the larger group's"
            )
    if note is not None:
        if scale is None:
            scale = {"metres_per_unit": note, "source": "note", "evidence": note_evidence}
            scale["confidence"] = NOTE_CONFIDENCE[keyword]
        elif _consistent(groups[0], dims, note) or _other_unit(groups[0], dims, note):
            if not _consistent(groups[0], dims, note):
                warnings.append(
                    f"the dimensions are bare numbers that agree with the scale note"
                    f" ({_ratio(note)}) read in another unit (read as they stand:"
                    f" {_ratio(groups[0].mpu)}): the note's scale is used"
                )
            confidence = max(scale["confidence"], NOTE_CONFIDENCE[keyword])
            evidence = note_evidence + scale["evidence"]
            scale |= {"metres_per_unit": note, "source": "note", "confidence": confidence}
            scale["evidence"] = evidence
        else:
            found = groups[0]
            warnings.append(
                f"the scale note ({_ratio(note)}) and the dimensions ({_ratio(found.mpu)}, "
                f"{len(found.agreeing)} of {found.strings} strings agree) differ by "
                f"{abs(found.mpu / note - 1):.0%}"
            )
            if len(found.agreeing) < STRONG:
                scale = {
                    "metres_per_unit": note,
                    "source": "note",
                    "confidence": NOTE_CONFIDENCE[keyword] / 2,
                    "evidence": note_evidence + scale["evidence"],
                }
            else:
                scale["evidence"] = note_evidence + scale["evidence"]
    bars = scale_bars(page, lines) if vector else []
    if bars:
        side = min(page.rect.width, page.rect.height)
        scale = _with_bars(scale, bars, note_evidence, side, warnings)
    if nts:
        if scale is None:
            warnings.append("marked not to scale: no scale from its notes")
        else:
            scale["evidence"] = nts + scale["evidence"]
            scale["confidence"] = round(scale["confidence"] / 2, 3)
            what = "its scale bar" if scale["source"] == "scale_bar" else "its dimensions"
            warnings.append(f"marked not to scale: the scale comes from {what} only")
    return scale, warnings


def _bar_scale(bar: Bar) -> dict[str, Any]:
    return {
        "metres_per_unit": bar.metres_per_unit,
        "source": "scale_bar",
        "confidence": bar.confidence,
        "evidence": [bar.evidence()],
    }


def _gap(a: list[float] | Box, b: list[float] | Box) -> float:
    """The distance between two boxes (0 when they touch or overlap)."""
    dx = max(a[0] - b[2], b[0] - a[2], 0.0)
    dy = max(a[1] - b[3], b[1] - a[3], 0.0)
    return float((dx * dx + dy * dy) ** 0.5)


def _with_bars(
    scale: dict[str, Any] | None,
    bars: list[Bar],
    note_evidence: list[dict[str, Any]],
    side: float,
    warnings: list[str],
) -> dict[str, Any]:
    """The page's scale given its scale bars (the longest first). A bar is drawn at the
    scale it states and shrinks with the print, as dimensions do, so:

    - no other scale: the bar's (``scale_bar``);
    - it agrees (2 %) with the note or the dimensions: the note's exact ratio stays, or the
      bar's value replaces the dimensions' consensus (a drawn bar is exact);
    - it disagrees with the dimensions: three or more agreeing strings win, else the bar;
    - it disagrees with a note beside it (the same view's label): the bar wins, the sheet
      was printed at another size, unless three or more dimension strings agree with the
      note (then the sheet was not reprinted: the note stays, the bar is a region);
      with a note elsewhere on the sheet, the note stays the page's scale and the bar's
      view is a region of its own (two views, two scales).

    Every disagreement is a warning; bars at other scales are listed in ``regions``."""
    bar = bars[0]
    evidence = [b.evidence() for b in bars]
    if scale is None:
        chosen = _bar_scale(bar)
        chosen["evidence"] = evidence
    elif abs(scale["metres_per_unit"] / bar.metres_per_unit - 1) <= AGREE:
        chosen = scale | {"confidence": max(scale["confidence"], bar.confidence)}
        if scale["source"] == "dimensions":
            chosen |= {"metres_per_unit": bar.metres_per_unit, "source": "scale_bar"}
        chosen["evidence"] = evidence + scale["evidence"]
    else:
        differ = abs(scale["metres_per_unit"] / bar.metres_per_unit - 1)
        said = f"the scale bar ({_ratio(bar.metres_per_unit)}, '{bar.text}')"
        if scale["source"] == "dimensions":
            agreeing = scale.get("dimensions", {}).get("agreeing", 0)
            strong = agreeing >= STRONG
            winner = "the dimensions" if strong else "the bar"
            warnings.append(
                f"{said} and the dimensions ({_ratio(scale['metres_per_unit'])}, {agreeing} "
                f"strings agree) differ by {differ:.0%}; {winner} win"
            )
            chosen = scale if strong else _bar_scale(bar) | {"confidence": bar.confidence / 2}
            chosen["evidence"] = (
                (evidence + scale["evidence"]) if not strong else (scale["evidence"] + evidence)
            )
        else:
            beside = any(_gap(e["bbox"], bar.box) <= BESIDE * side for e in note_evidence)
            # Dimensions that agree with the note measure the print: it is at the note's
            # scale, so the bar (misread, or another view's) cannot mean a reprint.
            confirmed = scale.get("dimensions", {}).get("agreeing", 0)
            if beside and confirmed >= STRONG:
                warnings.append(
                    f"{said} and the scale note beside it ({_ratio(scale['metres_per_unit'])}) "
                    f"differ by {differ:.0%}, but {confirmed} dimension strings agree with the "
                    "note: the sheet is at the note's scale, the bar is listed in scale.regions"
                )
                chosen = scale | {"evidence": scale["evidence"] + evidence}
            elif beside:
                warnings.append(
                    f"{said} and the scale note beside it ({_ratio(scale['metres_per_unit'])}) "
                    f"differ by {differ:.0%}: the sheet is printed at another size; the bar wins"
                )
                chosen = _bar_scale(bar)
                chosen["evidence"] = evidence + scale["evidence"]
            else:
                warnings.append(
                    f"{said} and the scale note ({_ratio(scale['metres_per_unit'])}) are in "
                    "separate parts of the sheet at different scales (see scale.regions); "
                    "scale is the note's"
                )
                chosen = scale | {"evidence": scale["evidence"] + evidence}
                note_box = note_evidence[0]["bbox"] if note_evidence else None
                chosen.setdefault("regions", [])
                if note_box is not None and not any(
                    r.get("source") == "note" for r in chosen["regions"]
                ):
                    chosen["regions"].append(
                        {
                            "bbox": note_box,
                            "metres_per_unit": scale["metres_per_unit"],
                            "confidence": scale["confidence"],
                            "source": "note",
                        }
                    )
    others = [b for b in bars if abs(b.metres_per_unit / chosen["metres_per_unit"] - 1) > AGREE]
    if others:
        regions = chosen.setdefault("regions", [])
        regions += [
            {
                "bbox": _rounded(b.box),
                "metres_per_unit": b.metres_per_unit,
                "confidence": b.confidence,
                "source": "scale_bar",
            }
            for b in others
        ]
    return chosen


def given_scale(mpu: float, drawn: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page's ``scale`` and ``warnings`` for a scale given as a parameter; ``drawn`` is
    the scale the page itself gives, if any, named in a warning when the two differ."""
    scale = {"metres_per_unit": mpu, "source": "parameter", "confidence": 1.0, "evidence": []}
    warnings = []
    own = drawn["metres_per_unit"] if drawn is not None else mpu
    if abs(mpu / own - 1) > AGREE:
        assert drawn is not None
        warnings.append(
            f"the scale given ({_ratio(mpu)}) and the page's own ({_ratio(own)}, from its"
            f" {drawn['source'].replace('_', ' ')}) differ by {abs(mpu / own - 1):.0%}:"
            " lengths use the given scale, walls are looked for at the page's"
        )
    return {"scale": scale, "warnings": warnings}
