"""Which pages of an ingest result a bill counts: plans, unless ``use_pages`` names them."""

from __future__ import annotations

import msgspec

from documents.bom_shapes import BomInputError, Page
from documents.model import at_field


class PageChoice(msgspec.Struct, frozen=True, omit_defaults=True):
    """A page of the input: its ``index`` (from 0), kind, walls, and why it was skipped."""

    index: int
    kind: str | None
    walls: int
    reason: str | None = None


def page_index(position: int, page: Page) -> int:
    """The page's ingest ``index``, else its position in ``pages`` (both from 0)."""
    return page.index if page.index is not None else position


def choose_pages(
    pages: list[Page], use_pages: list[int] | None
) -> tuple[list[tuple[int, Page]], list[PageChoice]]:
    """The pages to use, with their position in ``pages``, and those skipped with why.

    Plans only (a page without ``kind`` counts as one) unless ``use_pages`` names them.
    """
    if use_pages == []:
        message = (
            "use_pages is empty: list the ingest `index` values (from 0) of the pages to"
            " bill, or leave it out to bill the plan pages"
        )
        raise BomInputError(at_field(message, "$.use_pages"))
    wanted = None if use_pages is None else set(use_pages)
    if wanted is not None:
        present = {page_index(position, page) for position, page in enumerate(pages)}
        missing = sorted(wanted - present)
        if missing:
            message = (
                f"use_pages names page(s) {', '.join(map(str, missing))} that are not in"
                f" pages (its indexes, from 0: {', '.join(map(str, sorted(present)))})"
            )
            raise BomInputError(at_field(message, "$.use_pages"))
    used, skipped = [], []
    for position, page in enumerate(pages):
        index = page_index(position, page)
        if wanted is not None:
            reason = None if index in wanted else "not in use_pages"
        elif page.kind in (None, "plan"):
            reason = None
        else:
            why = f": {page.kind_reason}" if page.kind_reason else ""
            reason = f"a {page.kind} page, not a plan{why}"
        if reason is None:
            used.append((position, page))
        else:
            skipped.append(PageChoice(index, page.kind, len(page.walls), reason))
    walled = [choice for choice in skipped if choice.walls]
    if walled and not any(page.walls for _, page in used):
        kinds = sorted({choice.kind or "plan" for choice in walled})
        found = ", ".join(f"{choice.index} ({choice.kind})" for choice in walled)
        message = (
            f"no page used has walls: walls were found only on pages of kind"
            f" {', '.join(kinds)} (pages by index: {found}), which are skipped; to count them"
            f' anyway give their ingest `index` values (from 0) as use_pages, e.g. "use_pages":'
            f' [{walled[0].index}] (in a chain: ?then=[{{"function": "bom", "params":'
            f' {{"use_pages": [{walled[0].index}]}}}}])'
        )
        raise BomInputError(at_field(message, "$.use_pages"))
    if not any(page.walls or page.rooms for page in pages):
        # A bill of zeros would read as "nothing to build"; the document has no walls.
        listed = ", ".join(f"{page_index(k, p)} ({p.kind or 'plan'})" for k, p in enumerate(pages))
        message = (
            f"no page has walls (pages by index and kind: {listed or 'none'}): nothing to"
            " bill; give a floor plan, or the walls themselves as 'walls'"
        )
        raise BomInputError(at_field(message, "$.pages"))
    return used, skipped
