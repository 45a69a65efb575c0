"""Checking a return against its specification: each record's items (type, length, code
set, whether required) and the rules over several items, and a whole XML message's
structure (root, header in order, records with known elements in the specified order).

The exporter checks every row before writing it (a row that fails is listed as an
exception with the messages, never written half right), and tests check the files the
hub serves with the same functions, parsing them back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import date

from aphub import identifiers
from aphub.returns.spec import Item, Specification, code_set

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$")
_DECIMAL = re.compile(r"^[0-9]{1,3}(\.[0-9])?$")
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]*$")


def _identifier(check: Callable[[str], str]) -> Callable[[str], str | None]:
    def valid(value: str) -> str | None:
        try:
            normalised = check(value)
        except identifiers.IdentifierError as error:
            return str(error)
        return None if normalised == value else "not in its normal form"

    return valid


def _date(value: str) -> str | None:
    try:
        date.fromisoformat(value)
    except ValueError:
        return "not a date in the form YYYY-MM-DD"
    return None if len(value) == 10 else "not a date in the form YYYY-MM-DD"


_TYPES: dict[str, Callable[[str], str | None]] = {
    "upn": _identifier(identifiers.validate_upn),
    "uln": _identifier(identifiers.validate_uln),
    "urn": _identifier(identifiers.validate_urn),
    "ukprn": _identifier(identifiers.validate_ukprn),
    "date": _date,
    "postcode": lambda v: None if _POSTCODE.match(v) else "not a postcode like SW1A 1AA",
    "decimal": lambda v: None if _DECIMAL.match(v) else "not a number like 12.5",
    "text": lambda v: None if _PRINTABLE.match(v) else "contains control characters",
    "code": lambda v: None,
}


def _item_problem(item: Item, value: str) -> str | None:
    problem = _TYPES[item.type](value)
    if problem is not None:
        return problem
    if item.max_length is not None and len(value) > item.max_length:
        return f"longer than {item.max_length} characters"
    if item.code_set is not None and value not in code_set(item.code_set).codes:
        return f"not a code of the {item.code_set} code set"
    return None


def record_problems(spec: Specification, record: Mapping[str, str]) -> list[str]:
    """What is wrong with one record (element -> value, "" for blank): empty when valid."""
    problems = [f"{e}: not an item of the return" for e in record if e not in spec.elements]
    for item in spec.items:
        value = record.get(item.element, "")
        if not value:
            if item.required == "yes":
                problems.append(f"{item.element} ({item.name}) is required")
            continue
        problem = _item_problem(item, value)
        if problem is not None:
            problems.append(f"{item.element} ({item.name}) {problem}")
    for rule in spec.rules:
        problems += _rule_problems(rule, record)
    return problems


def _rule_problems(rule: Mapping[str, object], record: Mapping[str, str]) -> list[str]:
    found = []
    one_of = rule.get("one_of")
    if isinstance(one_of, list) and sum(1 for e in one_of if record.get(e)) != 1:
        found.append(f"{rule['id']}: {rule['text']}")
    for key, wanted in (("required_when", True), ("blank_when", False)):
        condition = rule.get(key)
        if not isinstance(condition, dict):
            continue
        applies = record.get(str(condition["item"]), "") in condition["values"]
        if applies and bool(record.get(str(condition["then"]))) != wanted:
            found.append(f"{rule['id']}: {rule['text']}")
    return found


def document_problems(spec: Specification, document: bytes) -> list[str]:
    """What is wrong with an XML message: its structure, header and every record."""
    try:
        root = ET.fromstring(document)  # noqa: S314 (the hub's own output, parsed back)
    except ET.ParseError as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != spec.root:
        return [f"root element is {root.tag}, not {spec.root}"]
    parts = [child.tag for child in root]
    if parts != ["Header", spec.record_container]:
        return [f"the message holds {parts}, not Header then {spec.record_container}"]
    problems = _header_problems(spec, root)
    container = root.find(spec.record_container)
    for index, record in enumerate(list(container) if container is not None else []):
        where = f"record {index + 1}"
        if record.tag != spec.record:
            problems.append(f"{where}: element {record.tag}, not {spec.record}")
            continue
        tags = [child.tag for child in record]
        order = [e for e in spec.elements if e in tags]
        if tags != order:
            problems.append(f"{where}: elements {tags} not in the specified order or repeated")
        if any(len(child) for child in record):
            problems.append(f"{where}: an item holds elements")
        values = {child.tag: child.text or "" for child in record}
        problems += [f"{where}: {p}" for p in record_problems(spec, values)]
    return problems


def _header_problems(spec: Specification, root: ET.Element) -> list[str]:
    problems = []
    header = root.find("Header")
    expected = [h.path.split("/")[1] for h in spec.header]
    groups = [g.tag for g in header] if header is not None else []
    if groups != list(dict.fromkeys(expected)):
        problems.append(f"header groups are {groups}, not {list(dict.fromkeys(expected))}")
    for field in spec.header:
        found = root.findall(field.path)
        if len(found) != 1:
            problems.append(f"{field.path}: {len(found)} elements, not 1")
        elif not re.match(field.pattern, found[0].text or ""):
            problems.append(f"{field.path}: {found[0].text!r} does not match {field.pattern}")
    return problems
