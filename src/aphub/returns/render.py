"""A return as files: the XML message in the specification's structure (the submission),
a CSV of the same rows for people to check, and the exceptions as CSV.

Items without a value are left out of a record rather than written empty (the
specification's "data items with no values" section could not be read; an absent element
is what every DfE collection schema found accepts for an optional item).
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from typing import Any

from aphub.returns.spec import Specification

ROW_IDS = ("child_id", "placement_id")
EXCEPTION_COLUMNS = ("child_id", "placement_id", "kind", "reasons", "actions")


def as_xml(spec: Specification, document: dict[str, Any]) -> bytes:
    root = ET.Element(spec.root)
    header = ET.SubElement(root, "Header")
    for path, value in document["header"].items():
        parent = header
        for name in path.split("/")[1:-1]:
            found = parent.find(name)
            parent = found if found is not None else ET.SubElement(parent, name)
        ET.SubElement(parent, path.rsplit("/", 1)[1]).text = value
    container = ET.SubElement(root, spec.record_container)
    for row in document["rows"]:
        record = ET.SubElement(container, spec.record)
        for element in spec.elements:
            value = row["items"][element]
            if value:
                ET.SubElement(record, element).text = value
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting =, +, - or @ is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def as_csv(spec: Specification, document: dict[str, Any]) -> str:
    """One line per record: the hub's ids, then every item of the return, in order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((*ROW_IDS, *spec.elements))
    for row in document["rows"]:
        writer.writerow(
            [_cell(row[k]) for k in ROW_IDS] + [_cell(row["items"][e]) for e in spec.elements]
        )
    return out.getvalue()


def exceptions_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXCEPTION_COLUMNS)
    for entry in document["exceptions"]:
        writer.writerow(
            [
                _cell(entry["child_id"]),
                _cell(entry["placement_id"]),
                entry["kind"],
                _cell("; ".join(entry["reasons"])),
                _cell("; ".join(entry["actions"])),
            ]
        )
    return out.getvalue()
