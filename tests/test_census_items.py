"""What the statutory returns need of a child: middle names and ethnicity (identity) and
home postcode (contacts), through the same schemas, sharing categories and surfaces as the
rest of the record; and the specifications held as data, with the validator that checks
every return against them (each check shown to catch what it is for)."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from importlib.resources import files

import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.returns.spec import AP_CENSUS, SCHOOL_CENSUS_AP, code_set, specification
from aphub.returns.validate import document_problems, record_problems
from tests.child_factories import graphql, make_area, make_child, place
from tests.factories import make_org

CENSUS = files("aphub.reference").joinpath("census")


async def test_census_items_are_recorded_validated_and_shared_by_category(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    child_id = await make_child(
        client, area, middle_names="Noor Jahan", ethnicity="apkn", home_postcode="nw51tl"
    )
    r = await client.get(f"/v1/children/{child_id}", headers=area.headers(area.la))
    child = r.json()
    assert (child["middle_names"], child["ethnicity"], child["home_postcode"]) == (
        "Noor Jahan",
        "APKN",  # DfE codes are upper case
        "NW5 1TL",
    )
    # an ethnicity DfE does not list is refused, naming the field; so is a bad postcode
    for field, value in (("ethnicity", "ASIA"), ("ethnicity", "W"), ("home_postcode", "N0PE")):
        r = await client.patch(
            f"/v1/children/{child_id}", json={field: value}, headers=area.headers(area.la)
        )
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    r = await client.patch(
        f"/v1/children/{child_id}", json={"ethnicity": "REFU"}, headers=area.headers(area.la)
    )
    assert r.status_code in (200, 204), r.text

    # a provider asked to take the child sees neither (minimal identity, no contacts); an
    # active provider sees both; the host LA sees ethnicity but not where the child lives
    await place(db, child_id, commissioner=area.la, provider=area.stranger, status="requested")
    asked = (
        await client.get(f"/v1/children/{child_id}", headers=area.headers(area.stranger))
    ).json()
    assert not {"middle_names", "ethnicity", "home_postcode"} & set(asked)
    await place(db, child_id, commissioner=area.la, provider=area.provider)
    placed = (
        await client.get(f"/v1/children/{child_id}", headers=area.headers(area.provider))
    ).json()
    assert placed["ethnicity"] == "REFU"
    assert placed["home_postcode"] == "NW5 1TL"
    host = await make_org(db, "local_authority", la_code="802")
    hosted = await make_org(db, "provider", local_authority_id=host.id)
    await place(db, child_id, commissioner=area.la, provider=hosted)
    seen = (await client.get(f"/v1/children/{child_id}", headers=area.headers(host))).json()
    assert seen["access"]["rules"] == ["la_host"]
    assert seen["ethnicity"] == "REFU"
    assert "home_postcode" not in seen

    # GraphQL: the same fields, the same validation
    query = "query($id: UUID!) { child(id: $id) { middleNames ethnicity homePostcode } }"
    result = await graphql(client, query, area.headers(area.la), id=child_id)
    assert result["data"]["child"] == {
        "middleNames": "Noor Jahan",
        "ethnicity": "REFU",
        "homePostcode": "NW5 1TL",
    }
    mutation = (
        "mutation($id: UUID!, $input: ChildUpdateInput!) "
        "{ updateChild(id: $id, input: $input) { ethnicity } }"
    )
    bad = await graphql(
        client, mutation, area.headers(area.la), id=child_id, input={"ethnicity": "XXXX"}
    )
    assert bad["errors"]
    good = await graphql(
        client, mutation, area.headers(area.la), id=child_id, input={"ethnicity": "wbri"}
    )
    assert good["data"]["updateChild"] == {"ethnicity": "WBRI"}


@pytest.mark.parametrize("key", [AP_CENSUS, SCHOOL_CENSUS_AP])
def test_each_specification_names_its_source_and_how_sure_each_item_is(key: str) -> None:
    data = tomllib.loads(CENSUS.joinpath(f"{key}.toml").read_text("utf-8"))
    assert data["specification"]["url"].startswith("https://www.gov.uk/")
    assert data["specification"]["version"]
    for entry in [*data["header"], *data["item"]]:
        assert entry["confidence"] in ("found", "partial", "unverified"), entry
        assert entry["source"], entry
    spec = specification(key)
    assert len(set(spec.elements)) == len(spec.elements)
    for rule in spec.rules:
        named = rule.get("one_of", []) + [
            rule[k][f]
            for k in ("required_when", "blank_when")
            if k in rule
            for f in ("item", "then")
        ]
        assert set(named) <= set(spec.elements), rule


def test_code_sets_name_their_sources_and_hold_what_dfe_published() -> None:
    for path in CENSUS.joinpath("code_sets").iterdir():
        first = path.read_text("utf-8").splitlines()[0]
        assert first.startswith("# source: "), path.name
    assert set(code_set("sex").codes) == {"M", "F", "U"}
    assert set(code_set("ap_setting_type").codes) == {"NFE", "OOT", "OTH", "WBP"}
    assert set(code_set("sen_provision").codes) == {"E", "K", "N"}
    ethnicity = code_set("ethnicity").codes
    assert {"WBRI", "WIRT", "MWBC", "AIND", "BCRB", "CHNE", "REFU", "NOBT"} <= set(ethnicity)
    assert all(re.fullmatch("[A-Z]{4}", c) for c in ethnicity)
    # the hub's reasons say that they are not DfE's
    assert "NOT a DfE code set" in code_set("hub_placement_reason").source


def _record() -> dict[str, str]:
    return {
        "UPN": "H801200001001",
        "Surname": "Reid",
        "Forename": "Jordan",
        "DOB": "2011-05-06",
        "Sex": "M",
        "Ethnicity": "WBRI",
        "SENprovision": "E",
        "PrimaryNeed": "SEMH",
        "APSettingType": "OTH",
        "PlacementReason": "permanent_exclusion",
        "PlacementStartDate": "2025-09-01",
    }


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"Sex": "X"}, "Sex (Sex) not a code of the sex code set"),
        ({"Ethnicity": "ASIA"}, "not a code of the ethnicity code set"),
        ({"UPN": "Z801200001001"}, "wrong check letter"),
        ({"DOB": "06/05/2011"}, "not a date"),
        ({"Surname": ""}, "Surname (Surname) is required"),
        ({"PlacementURN": "180002"}, "setting_identified"),  # URN and setting type both
        ({"APSettingType": ""}, "setting_identified"),  # neither
        ({"PrimaryNeed": ""}, "primary_need_with_sen"),  # EHC plan without a need
        ({"SENprovision": "N"}, "primary_need_with_sen"),  # a need without SEN
        ({"Shoe": "9"}, "Shoe: not an item of the return"),
        ({"Forename": "x" * 101}, "longer than 100"),
    ],
)
def test_the_validator_catches_each_kind_of_fault(change: dict[str, str], complaint: str) -> None:
    spec = specification(AP_CENSUS)
    assert record_problems(spec, _record()) == []
    problems = record_problems(spec, _record() | change)
    assert any(complaint in p for p in problems), problems


def _message(records: str, root: str = "APCensus", header: str | None = None) -> bytes:
    if header is None:
        header = (
            "<Header><CollectionDetails><Collection>AP</Collection><Year>2026</Year>"
            "<ReferenceDate>2026-01-15</ReferenceDate></CollectionDetails><Source>"
            "<SourceLevel>L</SourceLevel><LEA>801</LEA><SoftwareCode>aphub</SoftwareCode>"
            "<Release>0.1.0</Release><SerialNo>1</SerialNo>"
            "<DateTime>2026-01-16T09:00:00</DateTime></Source></Header>"
        )
    return f"<{root}>{header}<Pupils>{records}</Pupils></{root}>".encode()


def _pupil(record: dict[str, str]) -> str:
    return "<Pupil>" + "".join(f"<{k}>{v}</{k}>" for k, v in record.items() if v) + "</Pupil>"


def test_the_message_structure_is_checked_as_well_as_each_record() -> None:
    spec = specification(AP_CENSUS)
    good = _pupil(_record())
    assert document_problems(spec, _message(good)) == []
    out_of_order = "<Pupil><Surname>Reid</Surname>" + good.removeprefix("<Pupil>")
    faults = {
        "wrong root": _message(good, root="Census"),
        "no header": _message(good, header=""),
        "header value": _message(good).replace(b"<LEA>801</LEA>", b"<LEA>8O1</LEA>"),
        "record element": _message(good.replace("Pupil>", "Child>")),
        "order": _message(out_of_order),
        "bad code": _message(good.replace("<Sex>M</Sex>", "<Sex>Q</Sex>")),
        "not XML": b"<APCensus><Header>",
    }
    for name, message in faults.items():
        assert document_problems(spec, message), name


def test_csv_columns_are_the_specifications_items() -> None:
    from aphub.returns.render import as_csv

    spec = specification(SCHOOL_CENSUS_AP)
    text = as_csv(spec, {"rows": []})
    assert next(csv.reader(io.StringIO(text))) == ["child_id", "placement_id", *spec.elements]
