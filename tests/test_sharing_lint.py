"""No module outside `aphub.sharing` reads child-related tables on its own.

An AST lint in the spirit of Polar's org-scope linter. A read of a child-related table
(SQL `FROM`/`JOIN` of one, or an ORM `select`/`get` of its model) outside `aphub/sharing/`
is accepted only when:

- the statement is composed with the sharing layer: an f-string interpolating a name
  imported from `aphub.sharing`, a value computed from one in the same function, or a
  function of the module that composes one, so the caller's visibility condition is part
  of the statement;
- it is an ORM read in a function that first asks the sharing layer for its decision on
  the record (`gate.decide(...)`, a placement locked by its visibility), which answers 404
  for a record the caller may not see (a statement written as SQL must carry the
  condition itself); or
- it is an internal reader listed in `INTERNAL_READERS` below, with the reason it needs no
  visibility condition (a guard of a change already authorised, a job, the event log's own
  machinery).

A new statement that reads child data without either fails here, naming where it is.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "aphub"

CHILD_TABLES = (
    "children",
    "enrolments",
    "passport_sections",
    "passport_section_versions",
    "involvements",
    "consents",
    "access_log",
    "access_log_entries",
    "events",
    "event_outbox",
    "idempotency_keys",
    "placements",
    "intended_outcomes",
    "placement_reviews",
    "outcome_progress",
    "accreditations",
    "placement_follow_ups",
    "attendance_marks",
    "attendance_concerns",
    "exclusions",
    "education_flags",
)
CHILD_MODELS = frozenset(
    {
        "Child",
        "Enrolment",
        "PassportSection",
        "PassportSectionVersion",
        "Involvement",
        "Consent",
        "AccessLog",
        "Event",
        "EventOutbox",
        "IdempotencyKey",
        "Placement",
        "IntendedOutcome",
        "PlacementReview",
        "OutcomeProgress",
        "Accreditation",
        "FollowUp",
        "AttendanceMark",
        "AttendanceConcern",
        "Exclusion",
        "EducationFlag",
    }
)
# FROM or JOIN of a child-related table, except in DELETE FROM (a write)
# (the table's name may be schema-qualified and quoted: `public."children"`)
_READ = re.compile(
    r"(?<!DELETE )\b(?:FROM|JOIN)\s+(?:\"?public\"?\s*\.\s*)?\"?("
    + "|".join(CHILD_TABLES)
    + r")\b",
    re.IGNORECASE,
)
_ORM_READS = ("select", "get", "select_from", "scalar", "scalars")

# (module, where) -> why it reads child data without the sharing layer's condition.
_JOB = (
    "the attendance concerns job: scans the current placements of the hub (or of one LA's "
    "area) as the system and raises concerns to their commissioner and home LA; nothing it "
    "reads is answered to a caller"
)
_GUARD = "a guard of a transition on a placement already row-locked by its visibility (`locked`)"
_FRAGMENT = (
    "a fragment of the placement's JSON: every statement using it selects the placement by "
    "the sharing layer's condition, or answers a change the caller was just authorised to make"
)
_DEMO = "the demo loader fills an empty hub for `make run`; there is no caller"
_EDUCATION_JOB = (
    "the out-of-education flags job (`aphub.education.flags`): scans the hub's (or one "
    "LA's residents') exclusions, placements and rolls as the system, and raises flags to "
    "the responsible body and home LA; nothing it reads is answered to a caller"
)
_SHOWN = (
    "for children the sharing layer has just shown the caller with `education` "
    "(`gate.decide_audited` / `gate.decide` then `require_education`, or a GraphQL page of "
    "children the gate shaped)"
)
_CONTROLLER = (
    "the data controller's reads (access audit, subject access export), after "
    "`controller_decision` decided the caller is the child's home LA with `audit:read`"
)
INTERNAL_READERS: dict[tuple[str, str], str] = {
    ("metrics.py", "_EVENT_LOG"): (
        "the event log's figures for /metrics: counts, a sequence number and ages; no "
        "event's content leaves the statement"
    ),
    ("attendance/concerns.py", "HOME_LAS"): _JOB,
    ("attendance/concerns.py", "NO_RETURN"): _JOB,
    ("attendance/concerns.py", "UNEXPLAINED"): _JOB,
    ("attendance/concerns.py", "BELOW"): _JOB,
    ("attendance/ingest.py", "OLD_MARKS"): (
        "a provider's return: the marks already held for placements the return was checked "
        "to be the caller's own (`_placements_sql`, composed with placement visibility), to "
        "tell new marks from changed ones"
    ),
    ("children/access_log.py", "entries"): _CONTROLLER,
    ("children/export.py", "_passport"): _CONTROLLER,
    ("children/export.py", "_placements"): _CONTROLLER,
    ("children/consents.py", "_rows"): (
        "the consents of children the caller was decided to see: `list_consents` after "
        "`gate.decide_audited`, and GraphQL's `Child.consents` for children the gate shaped"
    ),
    ("children/involvements.py", "_rows"): (
        "the involvements of children the caller was decided to see: `list_involvements` "
        "after `gate.decide_audited`, and GraphQL's `Child.involvements` for shaped children"
    ),
    ("children/service.py", "_check_update_references"): (
        "a guard of an update the caller was decided to make: whether the organisations it "
        "names exist and are of the right type, and whether another child holds a UPN being "
        "given (answered without naming that child)"
    ),
    ("children/matching.py", "_CANDIDATES"): (
        "the master person index's own comparison of a posted child with the records the hub "
        "holds: the answer never names or depends on a record the caller cannot see (an "
        "exact match enrols into it and answers as the caller now sees it; a partial one is "
        "answered as a new child and flagged to the home LA)"
    ),
    ("children/matching.py", "_PAIR"): (
        "a guard of resolving a possible duplicate: the two records' home LAs and merge "
        "state, to refuse anyone but their home LA (404) before anything is answered"
    ),
    ("children/matching.py", "_MOVE"): (
        "the merge itself, by the home LA `_pair` decided: which passport sections the "
        "survivor lacks; nothing is read back to the caller"
    ),
    ("children/service.py", "_attach"): (
        "the roll entries a matched record already holds, to add a posted enrolment once; "
        "the caller is answered with the record as the gate shapes it for them"
    ),
    ("demo/attendance.py", "PLACEMENTS"): _DEMO,
    ("demo/exclusions.py", "load_exclusions"): _DEMO,
    ("education/exclusions.py", "_FACTS"): (
        "a guard of recording an exclusion for a child the caller was decided to see: its "
        "date of birth, whether the named school has it on roll, and whether it is recorded "
        "already"
    ),
    ("education/exclusions.py", "_ONE"): _SHOWN,
    ("education/exclusions.py", "_OF_CHILDREN"): _SHOWN,
    ("education/exclusions.py", "_CONVERTED"): (
        "a guard: whether the suspension an exclusion converts is this child's, from the "
        "same school"
    ),
    ("education/facts.py", "_CHILDREN"): _SHOWN + ", or the daily flags job",
    ("education/facts.py", "_EXCLUSIONS"): _SHOWN + ", or the daily flags job",
    ("education/facts.py", "_PLACEMENTS"): _SHOWN + ", or the daily flags job",
    ("education/facts.py", "_ROLLS"): _SHOWN + ", or the daily flags job",
    ("education/flags.py", "EXCLUDED"): _EDUCATION_JOB,
    ("education/flags.py", "WAITING"): _EDUCATION_JOB,
    ("education/flags.py", "PART_TIME"): _EDUCATION_JOB,
    ("education/flags.py", "LEFT_ROLL"): _EDUCATION_JOB,
    ("education/flags.py", "OPEN"): _EDUCATION_JOB,
    ("education/status.py", "_FLAGS"): _SHOWN + "; only the flags addressed to the caller",
    ("education/register.py", "_CANDIDATES"): (
        "the home LA's own residents (the `la_home` relationship, `home_la_id = :org`) who "
        "may belong on its register: ids only, then read through "
        "`gate.read_children_by_ids`, audited"
    ),
    ("education/register.py", "_FLAGS"): (
        "the open flags of children `gate.read_children_by_ids` has just shown the home LA"
    ),
    ("demo/placements.py", "load_placements"): _DEMO,
    ("events/log.py", "_OUTBOX"): (
        "the sealer moves committed outbox rows into the hash chain; nothing is answered"
    ),
    ("events/checkpoints.py", "prefix_of_chain"): (
        "`aphub verify-log --checkpoint`: the hash of the event a signed checkpoint covers, "
        "compared with the checkpoint; prints sequence numbers only"
    ),
    ("events/verify.py", "_EVENTS"): (
        "`aphub verify-log` recomputes the hash chain over the whole log: an operator's "
        "command that prints sequence numbers and event ids only"
    ),
    ("events/verify.py", "verify_chain"): (
        "`aphub verify-log`: the chain's head and the count of unsealed events"
    ),
    ("idempotency.py", "_CLAIM"): (
        "the caller's own answer, kept under its own key (by client id), replayed to the "
        "client that made the first request"
    ),
    ("placements/lifecycle.py", "_FLAGGED_CHILD"): _GUARD,
    ("placements/lifecycle.py", "_REVIEW_LOCK"): _GUARD,
    ("placements/lifecycle.py", "_START_FACTS"): _GUARD,
    ("placements/reviews.py", "_OUTCOME_IDS"): _GUARD,
    ("placements/repository.py", "_OUTCOMES"): _FRAGMENT,
    ("placements/repository.py", "BODY"): _FRAGMENT,
    ("placements/repository.py", "_CHANGED_SQL"): (
        "the answer to a change the caller was just authorised to make (requesting a "
        "placement), read by the id the change wrote"
    ),
    ("providers/quality.py", "providers_used_by"): (
        "whether the caller commissions a live placement with a provider (who may raise and "
        "see quality concerns): provider ids, no child data"
    ),
    ("reports/fragments.py", "PLACEMENT_JOINS"): (
        "a fragment naming a placement's child, provider and commissioner: every report "
        "statement using it selects the placement by `placement_visible` in the same statement"
    ),
    ("registration.py", "counts"): (
        "the registration threshold counts full-time pupils at a provider (a number, for "
        "the start guard and the directory's alert); no child is answered"
    ),
}


@dataclass(frozen=True)
class Read:
    module: str
    where: str  # the enclosing function, or the module-level name the statement is bound to
    line: int
    what: str


# Functions of other modules that decide visibility (they are the sharing layer's, or
# answer 404 by its condition): calling one before a read sanctions the read.
DECIDING = frozenset(
    {"locked", "lock_visible", "is_visible", "require_placement", "require_child", "visible_ids"}
)


def _sharing_names(tree: ast.Module) -> set[str]:
    """Names bound to the sharing layer: its imports, and the module's own functions that
    use them (to a fixed point: a helper of a helper of `placement_visible` counts)."""
    names = set(DECIDING)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aphub.sharing"):
            module = importlib.import_module(node.module or "")
            # its functions and modules: a constant (`TODAY`) is no visibility condition
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if value is None:  # a submodule: `from aphub.sharing import gate`
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                if callable(value) or inspect.ismodule(value):
                    names.add(alias.asname or alias.name)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    while True:
        more = {f.name for f in functions if f.name not in names and _uses(f, names)}
        if not more:
            return names
        names |= more


def _uses(node: ast.AST, names: set[str]) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in names)
        or (isinstance(n, ast.Attribute) and n.attr in names)
        for n in ast.walk(node)
    )


def _decides(function: ast.AST, sharing: set[str]) -> bool:
    """Whether the function calls the sharing layer (or a deciding function) itself."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.value.id in sharing or func.attr in DECIDING:
                    return True
            elif isinstance(func, ast.Name) and func.id in sharing:
                return True
    return False


def _text(node: ast.AST | None, strings: dict[str, ast.AST], depth: int = 0) -> str:
    """The SQL text an expression spells, with the module's string constants it names
    filled in (`f"... FROM {FROM}"` reads the table `FROM` names)."""
    if node is None or depth > 5:
        return ""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else ""
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v, strings, depth + 1) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _text(node.value, strings, depth + 1)
    if isinstance(node, ast.Name):
        return _text(strings.get(node.id), strings, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left, strings, depth + 1) + _text(node.right, strings, depth + 1)
    if (  # "... FROM {}".format(table)
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        template = _text(node.func.value, strings, depth + 1)
        parts = [_text(a, strings, depth + 1) for a in node.args]
        named = {k.arg: _text(k.value, strings, depth + 1) for k in node.keywords if k.arg}
        try:
            return template.format(*parts, **named)
        except (IndexError, KeyError, ValueError):
            return template + " " + " ".join([*parts, *named.values()])
    return ""


def _module_strings(tree: ast.Module) -> dict[str, ast.AST]:
    return {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }


class _Scanner(ast.NodeVisitor):
    def __init__(self, module: str, sharing: set[str], strings: dict[str, ast.AST]) -> None:
        self.module = module
        self.sharing = sharing
        self.strings = strings
        self.where = ["<module>"]
        self.derived: list[set[str]] = [set()]
        self.deciding = [False]
        self.locals: list[dict[str, ast.AST]] = [{}]  # a function's own string variables
        self.reads: list[Read] = []

    def _strings(self) -> dict[str, ast.AST]:
        return {**self.strings, **self.locals[-1]}

    def _composed_reads(self, node: ast.AST) -> None:
        """Reads in SQL composed by an expression (concatenation, `str.format`), unless
        the composition uses the sharing layer's condition."""
        if _uses(node, self.sharing | self.derived[-1]):
            return
        for match in _READ.finditer(_text(node, self._strings())):
            self._read(node, match.group(1))

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.where.append(node.name)
        self.derived.append(set())
        self.deciding.append(_decides(node, self.sharing))
        self.locals.append({})
        self.generic_visit(node)
        self.where.pop()
        self.derived.pop()
        self.deciding.pop()
        self.locals.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.where[-1] != "<module>":
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.locals[-1][target.id] = node.value
        # a value computed from the sharing layer (`visible = placement_visible(...)`)
        if _uses(node.value, self.sharing | self.derived[-1]):
            for target in node.targets:
                self.derived[-1] |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if self.where[-1] == "<module>" and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                self.where.append(target.id)
                self.generic_visit(node)
                self.where.pop()
                return
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Add) and not getattr(node, "_in_sum", False):
            for part in (node.left, node.right):
                part._in_sum = True  # type: ignore[attr-defined]  # read as part of this one
            self._composed_reads(node)
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = _text(node, self._strings())
        composed = _uses(node, self.sharing | self.derived[-1])
        for match in _READ.finditer(text):
            if not composed:
                self._read(node, match.group(1))

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for match in _READ.finditer(node.value):
                self._read(node, match.group(1))

    def visit_Call(self, node: ast.Call) -> None:
        name = ast.unparse(node.func).rsplit(".", 1)[-1]
        if name == "format" and isinstance(node.func, ast.Attribute):
            self._composed_reads(node)
        if name in _ORM_READS:
            for arg in node.args[:1] if name == "get" else node.args:
                models = {
                    n.id if isinstance(n, ast.Name) else n.attr
                    for n in ast.walk(arg)
                    if isinstance(n, ast.Name | ast.Attribute)
                } & CHILD_MODELS
                for model in sorted(models):
                    self._read(node, model, orm=True)
        self.generic_visit(node)

    def _read(self, node: ast.AST, what: str, *, orm: bool = False) -> None:
        if orm and self.deciding[-1]:
            return
        where = next((w for w in reversed(self.where)), "<module>")
        self.reads.append(Read(self.module, where, getattr(node, "lineno", 0), what))


def unsanctioned_reads(root: Path = SOURCE) -> list[Read]:
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("sharing/"):
            continue
        tree = ast.parse(path.read_text(), str(path))
        # f-strings' constant parts are visited through visit_JoinedStr only
        scanner = _Scanner(relative, _sharing_names(tree), _module_strings(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                for value in node.values:
                    value._in_fstring = True  # type: ignore[attr-defined]
        original = scanner.visit_Constant

        def constant(node: ast.Constant, original: object = original) -> None:
            if not getattr(node, "_in_fstring", False):
                original(node)  # type: ignore[operator]

        scanner.visit_Constant = constant  # type: ignore[method-assign]
        scanner.visit(tree)
        found += [r for r in scanner.reads if (r.module, r.where) not in INTERNAL_READERS]
    return found


def test_no_module_reads_child_data_around_the_sharing_layer() -> None:
    reads = unsanctioned_reads()
    assert not reads, "reads of child data outside aphub.sharing:\n" + "\n".join(
        f"  {r.module}:{r.line} in {r.where}: {r.what}" for r in reads
    )


@pytest.mark.parametrize(
    "source",
    [
        'SQL = "SELECT id FROM children"',
        'SQL = "SELECT id FROM public.children"',
        "SQL = 'SELECT id FROM \"children\" c'",
        'SQL = "SELECT id FROM " + "children"',
        'SQL = "SELECT id FROM {}".format("children")',
        'def leak():\n    table = "children"\n    return f"SELECT id FROM {table}"',
        'TABLE = "placements"\nSQL = f"SELECT p.id FROM {TABLE} p"',
        "from sqlalchemy import select\nfrom aphub.models import Child\n"
        "def leak():\n    return select(Child)",
        "from sqlalchemy import select\nfrom aphub import models\n"
        "def leak():\n    return select(models.Child.id)",
    ],
)
def test_the_lint_sees_a_read_however_it_is_spelled(tmp_path: Path, source: str) -> None:
    (tmp_path / "leak.py").write_text(source + "\n")
    (tmp_path / "fine.py").write_text('SQL = "DELETE FROM children WHERE id = $1"\n')
    assert [r.module for r in unsanctioned_reads(tmp_path)] == ["leak.py"]


@pytest.mark.parametrize("key", sorted(INTERNAL_READERS))
def test_every_internal_reader_still_exists_and_gives_a_reason(key: tuple[str, str]) -> None:
    module, where = key
    assert len(INTERNAL_READERS[key]) > 20, "say why it needs no visibility condition"
    source = (SOURCE / module).read_text()
    assert re.search(rf"\b(def|class) {where}\b|^{where} = ", source, re.M), key
