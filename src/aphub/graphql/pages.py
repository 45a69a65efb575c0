from __future__ import annotations

from aphub.errors import Invalid
from aphub.pagination import MAX_LIMIT


def checked_page_size(first: int) -> int:
    """Bounded before any SQL runs: a page larger than the REST maximum is refused."""
    if not 1 <= first <= MAX_LIMIT:
        raise Invalid.field("first", f"first must be between 1 and {MAX_LIMIT}")
    return first
