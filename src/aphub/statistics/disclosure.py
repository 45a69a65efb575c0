"""Statistical disclosure control for the dashboard statistics.

Sources followed: the Government Statistical Service's "Disclosure control policy for
tables produced from administrative sources" (GSS/GSR, 2014), and the Department for
Education's "Policy statement on confidentiality" (DfE official statistics: standards
and policies, gov.uk, updated 5 February 2019), which DfE's statistics on children in
need, SEN and exclusions apply as: counts of 1 to 4 suppressed, other counts rounded to
the nearest 5, totals computed from unrounded figures and rounded themselves.

What is published
-----------------
Every statistic is one cell of a two-way table: rows are local authorities (the child's
home LA), columns the categories of one dimension (reason, SEN provision, ...), with row
totals (each LA's population), column totals (the national figure of a category) and the
grand total. A dashboard's national table is the column totals; an LA's table, or a
dashboard's table filtered by LA, is one row. Every figure is cut from the one protected
table, so a cell is suppressed or published the same way whoever asks and however.

The rules, in order
-------------------
1. **Primary suppression.** A count of 1 to 4 (cell or total) is withheld: `count: null,
   suppressed: true`.
2. **Zeros are shown as 0.** The GSS policy treats a zero as disclosive only where it
   reveals something about everyone in a group ("all the children of this small group
   share this attribute"), not as a small count: suppressing zeros would hide true
   absences (no unregistered provider used) that oversight needs. The group risk is
   handled by rule 3.
3. **Minimum population.** Where an LA's population in the period is 1 to 9 (under
   `MINIMUM_POPULATION`), none of its cells is published, zeros included, so its
   distribution (say 0, 0, 7, 0: all of its children excluded) is never shown; the same
   for the whole table when the grand total is under it.
4. **Secondary (complementary) suppression.** Each row, each column, the row of column
   totals and the column of row totals is a sum (cells = total). Where exactly one member
   of a sum is withheld, total minus the others would give it back, so the smallest
   non-zero other member is withheld too (a cell rather than a total), repeated until
   no sum has exactly one member withheld. The LA populations (the column of row totals,
   shared by every dimension's table) are protected first, on their own, and that
   pattern imposed on every table: an LA's population is withheld in all of them or
   none, so one dimension's table cannot give away what another's hides.
5. **Rounding.** Every published count, totals included, is the unrounded count rounded
   to the nearest 5 (halves up: 7 is 5, 8 is 10). Sums of rounded cells need not equal
   the rounded total; that is the point.

Differencing across requests
----------------------------
Suppression protects one table; an attacker with many requests differences tables.
What the hub does about each way of doing so:

- **Overlapping filters.** Filters are fixed, coarse partitions: one LA (or all), one
  dimension, one period from a fixed grid (a calendar month or an academic year). There is
  no provider, school or free date range to slice a population into two overlapping sets
  whose difference is a handful of children. Filtering by LA is slicing the protected
  table, not tabulating a new one, so "national minus the other LAs" meets the same
  suppressed cells.
- **Totals against cells.** Rule 4, within every table and across the margins shared by
  all of them, and rule 5: even a sum with every member published gives the withheld
  figure only to within the rounding of each term (±2 each).
- **Periods.** Months and years are not additive (a child placed across two months is
  in both), so a year minus its months is not a count of anyone; two months differ by
  whole populations, every figure rounded.
- **Change over time** (one child added between two requests). A count moves from one
  published figure to another only when it crosses a rounding boundary, and the cell the
  child joins is hidden with its complement whenever either is small; the test
  `test_statistics_disclosure.py` checks that worlds differing by one child's placement,
  or by where one child is counted, answer every request identically.

The residual risk, stated rather than hidden: a series of requests made daily shows
when a rounded figure crosses a boundary, which says that the true count at that moment
was 7 or 8 (12 or 13, ...), never which child; published statistics are aggregates over
a month or a year, not a live feed, and dashboards are organisations the operator
registers under a data sharing agreement.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

SUPPRESS_UNDER = 5  # counts 1 to 4 are withheld
ROUNDING = 5  # published counts are rounded to the nearest 5
MINIMUM_POPULATION = 10  # an LA's distribution is shown only over this many children

Row = TypeVar("Row", bound=Hashable)
Column = TypeVar("Column", bound=Hashable)
# positions in the table with its margins
Position = tuple[str, Hashable, Hashable]
GRAND: Position = ("grand", None, None)


def cell(row: Hashable, column: Hashable) -> Position:
    return ("cell", row, column)


def row_total(row: Hashable) -> Position:
    return ("row", row, None)


def column_total(column: Hashable) -> Position:
    return ("column", None, column)


def rounded(value: int, base: int = ROUNDING) -> int:
    """To the nearest `base`, halves up (7 is 5, 8 is 10)."""
    return (value + base // 2) // base * base


@dataclass(frozen=True)
class Figure:
    """A published count: `count` is None when it is withheld."""

    count: int | None
    suppressed: bool

    def as_dict(self) -> dict[str, int | bool | None]:
        return {"count": self.count, "suppressed": self.suppressed}


@dataclass
class Protected:
    """A table after disclosure control: every figure as it may be published."""

    values: dict[Position, int]
    withheld: set[Position]
    base: int = ROUNDING

    def figure(self, position: Position) -> Figure:
        if position in self.withheld:
            return Figure(None, True)
        return Figure(rounded(self.values[position], self.base), False)


@dataclass
class _Table:
    values: dict[Position, int]
    sums: list[list[Position]]  # each: members, the total last
    fixed: set[Position] = field(default_factory=set)  # never chosen as complements
    withheld: set[Position] = field(default_factory=set)

    def complete(self) -> None:
        """Rule 4: until no sum has exactly one member withheld."""
        self._sums_of: dict[Position, list[list[Position]]] = {}
        for members in self.sums:
            for m in members:
                self._sums_of.setdefault(m, []).append(members)
        changed = True
        while changed:
            changed = False
            for members in self.sums:
                hidden = [m for m in members if m in self.withheld]
                if len(hidden) != 1:
                    continue
                complement = self._complement(members)
                if complement is not None:
                    self.withheld.add(complement)
                    changed = True

    def _complement(self, members: list[Position]) -> Position | None:
        """The smallest non-zero published member of the sum, a cell before a total, and
        one whose withholding leaves its other sums protectable before one that does not
        (a cell alone in its row among zeros, whose fixed total would give it back)."""
        open_ = [
            m for m in members if m not in self.withheld and m not in self.fixed and self.values[m]
        ]
        if not open_:
            return None

        def preference(m: Position) -> tuple[bool, bool, int, str]:
            return (not self._viable(m, members), m[0] != "cell", self.values[m], repr(m))

        return min(open_, key=preference)

    def _viable(self, candidate: Position, within: list[Position]) -> bool:
        for members in self._sums_of.get(candidate, []):
            if members is within:
                continue
            hidden = sum(m in self.withheld for m in members) + 1
            if hidden == 1 and not any(
                m != candidate
                and m not in self.withheld
                and m not in self.fixed
                and self.values[m] > 0
                for m in members
            ):
                return False
        return True


def _small(value: int) -> bool:
    return 0 < value < SUPPRESS_UNDER


def protect_margin(populations: Mapping[Row, int]) -> set[Position]:
    """The row totals (LA populations) and grand total to withhold: rules 1, 3 and 4 on
    the one sum every table shares."""
    grand = sum(populations.values())
    values: dict[Position, int] = {row_total(r): v for r, v in populations.items()}
    values[GRAND] = grand
    if grand < MINIMUM_POPULATION:
        return set(values) if grand else set()
    table = _Table(values, [[*(row_total(r) for r in populations), GRAND]], fixed={GRAND})
    table.withheld = {p for p, v in values.items() if _small(v)}
    table.complete()
    return table.withheld


def protect(
    counts: Mapping[tuple[Row, Column], int],
    rows: Sequence[Row],
    columns: Sequence[Column],
    *,
    margin: Iterable[Position] | None = None,
    base: int = ROUNDING,
) -> Protected:
    """Rules 1 to 5 on the table `counts` (missing cells are 0). `margin` is the
    withheld row totals and grand total from `protect_margin` (computed here if None)."""
    values: dict[Position, int] = {}
    for r in rows:
        for c in columns:
            values[cell(r, c)] = counts.get((r, c), 0)
    populations = {r: sum(values[cell(r, c)] for c in columns) for r in rows}
    for r in rows:
        values[row_total(r)] = populations[r]
    for c in columns:
        values[column_total(c)] = sum(values[cell(r, c)] for r in rows)
    values[GRAND] = sum(populations.values())
    shared = set(protect_margin(populations) if margin is None else margin)

    if values[GRAND] < MINIMUM_POPULATION and values[GRAND] > 0:
        return Protected(values, set(values), base)
    sums = [[*(cell(r, c) for c in columns), row_total(r)] for r in rows]
    sums += [[*(cell(r, c) for r in rows), column_total(c)] for c in columns]
    sums.append([*(column_total(c) for c in columns), GRAND])
    sums.append([*(row_total(r) for r in rows), GRAND])
    fixed = {row_total(r) for r in rows} | {GRAND}
    table = _Table(values, sums, fixed=fixed)
    table.withheld = {p for p, v in values.items() if _small(v) and p not in fixed} | shared
    for r in rows:  # rule 3
        if 0 < populations[r] < MINIMUM_POPULATION:  # an LA with none has nothing to hide
            table.withheld |= {cell(r, c) for c in columns}
    table.complete()
    return Protected(values, table.withheld, base)
