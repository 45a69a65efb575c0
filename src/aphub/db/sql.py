"""SQL with named parameters.

Every statement the hub writes by hand names its parameters (`:child_id`), the style
SQLAlchemy's `text()` uses too. `compiled` turns a statement into asyncpg's numbered form
(`$1`) once, remembering which name each number stands for, so fragments from different
modules compose into one statement without anyone counting parameters: two fragments that
use `:org` share one parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A quoted literal (skipped, so '{"a":1}' or 'system:jobs' stay as they are), or a name
# after a colon that follows no name or colon: `x::text` is a cast, `:org::uuid` the
# parameter `org` cast to uuid.
_TOKEN = re.compile(r"'(?:[^']|'')*'|(?<![:\w\\]):([A-Za-z_]\w*)")
# a statement that changes rows (in a read unit: an audited read's access-log row)
_WRITES = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement in asyncpg's numbered form, and the name of each number in order."""

    sql: str
    names: tuple[str, ...]
    writes: bool = False  # a read unit on a replica runs it on the primary

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        try:
            return [params[name] for name in self.names]
        except KeyError as missing:
            raise TypeError(f"the statement needs the parameter :{missing.args[0]}") from None


_COMPILED: dict[str, Compiled] = {}


def compiled(sql: str) -> Compiled:
    """`sql` with its `:name` parameters numbered, compiled once per distinct text."""
    found = _COMPILED.get(sql)
    if found is None:
        found = _COMPILED[sql] = _compile(sql)
    return found


def _compile(sql: str) -> Compiled:
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in numbers:
            numbers[name] = len(numbers) + 1
        return f"${numbers[name]}"

    return Compiled(_TOKEN.sub(number, sql), tuple(numbers), bool(_WRITES.search(sql)))


def with_ctes(ctes: Sequence[tuple[str, str]], final: str) -> str:
    """`WITH name AS (sql), ... final`: a statement from named parts. A data-changing
    statement can only be a part of the outermost WITH, so statements that others extend
    (a transition's change, which the Idempotency-Key's keep rides on) are kept as parts
    and a final SELECT, and joined here."""
    if not ctes:
        return final
    parts = ", ".join(f"{name} AS ({sql})" for name, sql in ctes)
    return f"WITH {parts} {final}"


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement kept as its named parts and its final SELECT, so that another part
    can be added before it runs (`extended`)."""

    ctes: tuple[tuple[str, str], ...]
    final: str

    @property
    def sql(self) -> str:
        return with_ctes(self.ctes, self.final)

    def extended(self, *ctes: tuple[str, str], final: str) -> Statement:
        """This statement with more parts after its own, and another final SELECT (which
        may read this one's as the part named `answer`, when asked for by `answered`)."""
        return Statement((*self.ctes, *ctes), final)

    def answered(self) -> Statement:
        """This statement with its final SELECT as a part named `answer`."""
        return Statement((*self.ctes, ("answer", self.final)), "SELECT * FROM answer")


_NAMED: Any = None


def from_core(statement: Any) -> tuple[str, dict[str, Any]]:
    """A SQLAlchemy Core statement as text with named parameters, and the values of those
    it binds itself (a query shared with ORM code, run as a unit's statement)."""
    global _NAMED
    if _NAMED is None:
        from sqlalchemy.dialects.postgresql.base import PGDialect

        _NAMED = PGDialect(paramstyle="named")  # type: ignore[no-untyped-call]
    compiled = statement.compile(dialect=_NAMED)
    return compiled.string, dict(compiled.params)


def riding_claim(sql: str, claim_sql: str) -> str:
    """`sql` (a SELECT of at most one row) with the Idempotency-Key claim in front of it,
    in one statement: the claim's row, whether `sql` found a row, and that row."""
    return (
        f"WITH claimed AS ({claim_sql}), target AS ({sql}) "
        "SELECT claimed.*, EXISTS (SELECT 1 FROM target) AS target_found, target.* "
        "FROM claimed LEFT JOIN target ON true"
    )


def one_row_select(sql: str) -> bool:
    """Whether a statement can ride after the key's claim as a part of one WITH: a plain
    SELECT (a row lock included), not a statement that writes."""
    return sql.lstrip()[:6].upper() == "SELECT"
