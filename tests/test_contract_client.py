"""The committed contract makes a client an integrator can trust: openapi-python-client
generates one from it without a single warning (nothing dropped, nothing left untyped),
the generated package imports, and it reads the hub's own answers into its models; and
every operation that takes a body shows an example the hub accepts."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import jsonschema_rs
import orjson
import pytest
from fastapi import FastAPI

from aphub.api.endpoint import Endpoint
from aphub.api.examples import request_example
from aphub.api.requests import parse_body
from aphub.api.table import ENDPOINTS
from aphub.db import Database
from tests import placement_factories as placements
from tests.factories import token_for

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "openapi" / "python-client.yaml"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "aphub_client"


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, ModuleType | None]]:
    """The client generated from the committed contract, and its package imported."""
    out = tmp_path_factory.mktemp("client") / PACKAGE  # --meta none: the package itself
    # its post hooks format the code with ruff, from the same environment
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(  # noqa: S603 - the generator of this environment, fixed arguments
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(CONTRACT),
            "--config",
            str(CONFIG),
            "--output-path",
            str(out),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    sys.path.insert(0, str(out.parent))
    try:
        yield output, importlib.import_module(PACKAGE) if run.returncode == 0 else None
    finally:
        sys.path.remove(str(out.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_python_client_generates_from_the_contract_without_a_warning(
    generated: tuple[str, ModuleType | None],
) -> None:
    output, package = generated

    assert package is not None, f"openapi-python-client failed:\n{output}"
    lowered = output.lower()
    assert "warning" not in lowered, output
    assert "unable" not in lowered, output


def test_every_operation_of_the_generated_client_imports_with_its_models(
    generated: tuple[str, ModuleType | None],
) -> None:
    """One module per operation of the contract (a schema the generator cannot read drops
    the operations using it), each importing; the models once dropped are there."""
    _, package = generated
    assert package is not None
    spec = json.loads(CONTRACT.read_text())
    operations = [o for item in spec["paths"].values() for o in item.values()]
    api = Path(package.__file__ or "").parent / "api"
    modules = sorted(p for p in api.rglob("*.py") if p.name != "__init__.py")

    for path in modules:
        name = ".".join(path.relative_to(api.parent.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        assert callable(module.asyncio_detailed), name
    assert len(modules) == len(operations)
    models = importlib.import_module(f"{PACKAGE}.models")
    for name in ("PlacementView", "PlacementPage", "Funding", "Summary", "Problem"):
        assert hasattr(models, name), name


async def test_the_generated_client_reads_a_requested_placement_into_its_model(
    generated: tuple[str, ModuleType | None], app: FastAPI, db: Database, clean_db: None
) -> None:
    """The answer that once raised in generated clients (a 201 with funding) now parses."""
    _, package = generated
    assert package is not None
    area = await placements.make_area(app, db, registration="pru")
    request_placement = importlib.import_module(f"{PACKAGE}.api.placements.request_placement")
    get_placement = importlib.import_module(f"{PACKAGE}.api.placements.get_placement")
    models = importlib.import_module(f"{PACKAGE}.models")
    body = placements.request_body(
        area, funding={"source": "local_authority", "rate": "65.00", "unit": "per_session"}
    )
    client = package.AuthenticatedClient(
        base_url="http://hub",
        token=token_for(app, area.la),
        httpx_args={"transport": httpx.ASGITransport(app=app)},
    )

    async with client as c:
        created = await request_placement.asyncio_detailed(
            client=c,
            body=models.PlacementCreate.from_dict(body),
            idempotency_key=uuid.uuid4().hex,
        )
        assert created.status_code == 201, created.content
        placement = created.parsed
        assert isinstance(placement, models.PlacementView)
        assert placement.funding.rate == "65.00"
        read = await get_placement.asyncio(client=c, placement_id=uuid.UUID(str(placement.id)))

    assert isinstance(read, models.PlacementView)
    assert read.status == "requested"


# --- request examples ----------------------------------------------------------------------


def _with_body(endpoint: Endpoint) -> bool:
    return endpoint.signature.body is not None


@pytest.mark.parametrize(
    "endpoint",
    [pytest.param(e, id=f"{e.method} {e.path}") for e in ENDPOINTS if _with_body(e)],
)
def test_every_body_has_an_example_the_hub_accepts(endpoint: Endpoint) -> None:
    model = endpoint.signature.body
    assert model is not None
    example = request_example(model)

    assert example is not None, f"no request example for {model.__name__} (aphub.api.examples)"
    parse_body(model, orjson.dumps(example))  # a Problem (422) if the hub would refuse it


def test_every_operation_with_a_body_documents_an_example_valid_by_its_schema() -> None:
    """In the committed document, for every media type of every request body (the token
    form and the CSV return included): an example, which a JSON body's schema accepts."""
    spec = json.loads(CONTRACT.read_text())
    components = spec["components"]
    missing, invalid = [], []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                label = f"{method.upper()} {path} {media_type}"
                values: list[Any] = [e["value"] for e in content.get("examples", {}).values()]
                if "example" in content:
                    values.append(content["example"])
                if not values:
                    missing.append(label)
                    continue
                if media_type != "application/json":
                    continue
                validator = jsonschema_rs.Draft202012Validator(
                    {**content["schema"], "components": components}, validate_formats=True
                )
                invalid += [label for v in values if not validator.is_valid(v)]

    assert not missing, f"request bodies without an example: {missing}"
    assert not invalid, f"examples their own schema refuses: {invalid}"
