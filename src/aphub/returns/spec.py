"""The DfE return specifications as the hub holds them (`aphub/reference/census/`): one
file per return naming its message structure, items and rules, and code sets with their
sources. The exporter writes by them and the validator checks by them, so correcting an
element name or adding a code is a change of data, reviewed beside its source."""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

AP_CENSUS = "ap_census_2026"
SCHOOL_CENSUS_AP = "school_census_2026_27_ap"


def _census_file(name: str) -> str:
    return files("aphub.reference").joinpath("census").joinpath(name).read_text("utf-8")


@dataclass(frozen=True, slots=True)
class CodeSet:
    name: str
    source: str
    codes: dict[str, str]  # code -> description ("" where it was not found)


@cache
def code_set(name: str) -> CodeSet:
    """A code set; its file's first line is `# source: ...`."""
    text = _census_file(f"code_sets/{name}.csv")
    first, _, rest = text.partition("\n")
    if not first.startswith("# source:"):
        raise ValueError(f"code set {name} does not name its source")
    rows = csv.DictReader(io.StringIO(rest))
    return CodeSet(
        name, first.removeprefix("# source:").strip(), {r["code"]: r["description"] for r in rows}
    )


@dataclass(frozen=True, slots=True)
class Item:
    element: str
    name: str
    type: str
    required: str
    code_set: str | None
    max_length: int | None
    confidence: str
    source: str


@dataclass(frozen=True, slots=True)
class Header:
    path: str
    value: str
    pattern: str
    confidence: str


@dataclass(frozen=True, slots=True)
class Specification:
    key: str
    name: str
    url: str
    version: str
    root: str
    record_container: str
    record: str
    header: tuple[Header, ...]
    items: tuple[Item, ...]
    rules: tuple[dict[str, Any], ...]

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(i.element for i in self.items)

    def describe(self) -> dict[str, Any]:
        """What an answer says about the specification it followed."""
        unverified = [i.element for i in self.items if i.confidence == "unverified"]
        return {
            "name": self.name,
            "url": self.url,
            "version": self.version,
            "unverified_elements": unverified,
            "note": "Element names and header values marked unverified follow the hub's "
            "reading of DfE conventions; the specification's own could not be read. "
            "Check them before submitting (see aphub/reference/census/README.md).",
        }


@cache
def specification(key: str) -> Specification:
    data = tomllib.loads(_census_file(f"{key}.toml"))
    about, message = data["specification"], data["message"]
    items = tuple(
        Item(
            element=i["element"],
            name=i["name"],
            type=i["type"],
            required=i["required"],
            code_set=i.get("code_set"),
            max_length=i.get("max_length"),
            confidence=i["confidence"],
            source=i["source"],
        )
        for i in data["item"]
    )
    for item in items:
        if item.code_set is not None:
            code_set(item.code_set)  # a missing or unsourced code set fails on load
    return Specification(
        key=key,
        name=about["name"],
        url=about["url"],
        version=about["version"],
        root=message["root"],
        record_container=message["record_container"],
        record=message["record"],
        header=tuple(
            Header(h["path"], h["value"], h["pattern"], h["confidence"]) for h in data["header"]
        ),
        items=items,
        rules=tuple(data.get("rule", ())),
    )
