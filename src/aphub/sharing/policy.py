"""The information-sharing policy: which rule grants which categories and fields.

Loaded once at start from the shipped `policy.toml` or an area's replacement
(`APHUB_SHARING_POLICY`); an invalid file stops the hub with a message naming the
problem, because a wrong policy is a data breach waiting to happen.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from aphub.sharing.fields import (
    CATEGORIES,
    CORE_FIELDS,
    FIELD_CATEGORY,
    SECTION_FIELDS,
    fields_in,
)

# Every relationship the hub computes, and the organisation type it belongs to.
RULE_ORGANISATION_TYPE: dict[str, str] = {
    "la_home": "local_authority",
    "la_host": "local_authority",
    "school_on_roll": "school",
    "school_left_roll": "school",
    "school_commissioner": "school",
    "trust_school_roll": "trust",
    "trust_commissioner": "trust",
    "provider_requested": "provider",
    "provider_placement": "provider",
    "health_involvement": "health",
    "social_care_involvement": "social_care",
}
INVOLVEMENT_RULES = frozenset({"health_involvement", "social_care_involvement"})


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Grant:
    """What a rule grants for reading or for writing."""

    categories: frozenset[str]
    fields: frozenset[str]

    @classmethod
    def parse(cls, where: str, raw: Any) -> Grant:
        if not isinstance(raw, Mapping):
            raise PolicyError(f'{where} must be a table of category = "*" or [fields]')
        categories: set[str] = set()
        fields: set[str] = set()
        for category, value in raw.items():
            if category not in CATEGORIES:
                raise PolicyError(f"{where}: unknown category {category!r}")
            if value == "*":
                fields |= fields_in(category)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                for field in value:
                    if FIELD_CATEGORY.get(field) != category:
                        raise PolicyError(
                            f"{where}.{category}: {field!r} is not a field of category {category}"
                        )
                fields |= set(value)
            else:
                raise PolicyError(f'{where}.{category} must be "*" or a non-empty list of fields')
            categories.add(category)
        return cls(frozenset(categories), frozenset(fields))

    def narrowed_to(self, categories: Iterable[str]) -> Grant:
        keep = frozenset(categories)
        return Grant(
            self.categories & keep,
            frozenset(f for f in self.fields if FIELD_CATEGORY[f] in keep),
        )


NOTHING = Grant(frozenset(), frozenset())


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    read: Grant
    write: Grant


@dataclass(frozen=True)
class Decision:
    """Why and how much a caller may see of one child: names the rules that allowed it."""

    rules: tuple[str, ...]
    read: Grant
    write: Grant
    policy_version: str

    @property
    def allowed(self) -> bool:
        return bool(self.rules)

    @property
    def categories(self) -> list[str]:
        return sorted(self.read.categories)

    def can_read(self, category: str) -> bool:
        return category in self.read.categories

    @cached_property
    def readable_core(self) -> tuple[str, ...]:
        """The record's own fields this decision shows, in catalogue order (computed once
        per decision: decisions are cached by the policy)."""
        return tuple(name for name in CORE_FIELDS if name in self.read.fields)

    @cached_property
    def readable_sections(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each passport section with at least one readable field, and those fields."""
        sections = (
            (section, tuple(n for n in names if f"{section}.{n}" in self.read.fields))
            for section, names in SECTION_FIELDS.items()
        )
        return tuple((section, names) for section, names in sections if names)


@dataclass(frozen=True)
class AreaSettings:
    """What a local area sets beside its sharing rules (the `[area]` table): the hours
    that make a week's provision full time, and how long before children waiting for a
    place or gone from a roll are flagged."""

    full_time_hours: Decimal = Decimal(25)
    waiting_for_place_school_days: int = 5
    missing_education_school_days: int = 10
    part_time_review_max_days: int = 42  # a part-time timetable is reviewed within 6 weeks

    @classmethod
    def parse(cls, source: str, raw: Any) -> AreaSettings:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise PolicyError(f"{source}: [area] must be a table")
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise PolicyError(f"{source}: [area] has unknown keys {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(f"{source}: area.{name} must be a number")
            if name == "full_time_hours":
                if not 1 <= value <= 40:
                    raise PolicyError(f"{source}: area.full_time_hours must be 1 to 40")
                values[name] = Decimal(str(value))
            else:
                if not isinstance(value, int) or not 1 <= value <= 100:
                    raise PolicyError(f"{source}: area.{name} must be a whole number, 1 to 100")
                values[name] = value
        return cls(**values)


@dataclass(frozen=True, eq=False)  # identity-hashed: statements are cached per policy
class Policy:
    version: str
    rules: Mapping[str, Rule]
    area: AreaSettings = field(default_factory=AreaSettings)
    # decisions are few (a rule set per relationship mix) and read on every request
    _decisions: dict[tuple[Any, ...], Decision] = field(default_factory=dict, repr=False)

    def decide(
        self, rule_names: Iterable[str], involvement_categories: Iterable[str] | None = None
    ) -> Decision:
        names = tuple(sorted(set(rule_names)))
        narrowed = None if involvement_categories is None else tuple(sorted(involvement_categories))
        key = (names, narrowed)
        cached = self._decisions.get(key)
        if cached is None:
            cached = self._decisions[key] = self._decide(names, narrowed)
        return cached

    def _decide(
        self, names: tuple[str, ...], involvement_categories: tuple[str, ...] | None
    ) -> Decision:
        read_categories: set[str] = set()
        read_fields: set[str] = set()
        write_categories: set[str] = set()
        write_fields: set[str] = set()
        for name in names:
            rule = self.rules.get(name)
            if rule is None:
                continue  # a relationship the area's agreement grants nothing for
            read, write = rule.read, rule.write
            if name in INVOLVEMENT_RULES and involvement_categories is not None:
                read = read.narrowed_to(involvement_categories)
                write = write.narrowed_to(involvement_categories)
            read_categories |= read.categories
            read_fields |= read.fields
            write_categories |= write.categories
            write_fields |= write.fields
        return Decision(
            rules=names,
            read=Grant(frozenset(read_categories), frozenset(read_fields)),
            write=Grant(frozenset(write_categories), frozenset(write_fields)),
            policy_version=self.version,
        )

    def categories_by_rule(self) -> dict[str, list[str]]:
        return {name: sorted(rule.read.categories) for name, rule in self.rules.items()}

    @cached_property
    def categories_by_rule_json(self) -> str:
        """`categories_by_rule` as the JSON the read statements take as a parameter."""
        return json.dumps(self.categories_by_rule(), sort_keys=True)

    def rules_reading(self, field: str) -> list[str]:
        """The rules whose read grant includes the field (before involvement narrowing)."""
        return sorted(name for name, rule in self.rules.items() if field in rule.read.fields)


def parse_policy(document: Mapping[str, Any], source: str) -> Policy:
    version = document.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 64:
        raise PolicyError(f"{source}: `version` must be a non-empty string of at most 64 chars")
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, Mapping) or not raw_rules:
        raise PolicyError(f"{source}: `[rules.<name>]` tables are required")
    unknown_top = set(document) - {"version", "rules", "area"}
    if unknown_top:
        raise PolicyError(f"{source}: unknown keys {sorted(unknown_top)}")
    rules: dict[str, Rule] = {}
    for name, body in raw_rules.items():
        if name not in RULE_ORGANISATION_TYPE:
            known = ", ".join(sorted(RULE_ORGANISATION_TYPE))
            raise PolicyError(f"{source}: unknown rule {name!r} (the hub computes: {known})")
        if not isinstance(body, Mapping):
            raise PolicyError(f"{source}: rules.{name} must be a table")
        unknown = set(body) - {"description", "read", "write"}
        if unknown:
            raise PolicyError(f"{source}: rules.{name} has unknown keys {sorted(unknown)}")
        read = Grant.parse(f"rules.{name}.read", body.get("read", {}))
        write = Grant.parse(f"rules.{name}.write", body.get("write", {}))
        if not write.fields <= read.fields or not write.categories <= read.categories:
            raise PolicyError(f"{source}: rules.{name} may not write what it cannot read")
        rules[name] = Rule(name, str(body.get("description", "")), read, write)
    return Policy(version.strip(), rules, AreaSettings.parse(source, document.get("area")))


def load_policy(path: Path | None = None) -> Policy:
    if path is None:
        source = "the default policy"
        text = resources.files("aphub.sharing").joinpath("policy.toml").read_text()
    else:
        source = str(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise PolicyError(f"cannot read sharing policy {path}: {exc.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source} is not valid TOML: {exc}") from None
    return parse_policy(document, source)


_active: Policy | None = None


def activate(policy: Policy) -> None:
    global _active
    _active = policy


def active_policy() -> Policy:
    global _active
    if _active is None:
        _active = load_policy()
    return _active
