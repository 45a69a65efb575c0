"""The committed API contracts: OpenAPI for REST and SDL for GraphQL."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from aphub.config import Settings


def render_contracts() -> dict[str, str]:
    from strawberry.printer import print_schema

    from aphub.graphql.schema import build_schema
    from aphub.main import create_app

    # The contract does not depend on a database or keys: build the app without either.
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), graphql_introspection=True)
    app = create_app(settings, database=None)
    openapi = json.dumps(app.openapi(), indent=2, sort_keys=False) + "\n"
    sdl = print_schema(build_schema(settings)) + "\n"
    return {"openapi.json": openapi, "schema.graphql": sdl}


def write_contracts(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_contracts().items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written
