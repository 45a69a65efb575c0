"""`aphub`: serve, migrate, load the demo area, issue credentials, write the API contracts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from aphub.cli_jobs import (
    cmd_jobs_run_concerns,
    cmd_jobs_run_education,
    cmd_jobs_serve,
    hub_database,
    job_names,
)
from aphub.config import get_settings
from aphub.db import resolve_migration_url
from aphub.logs import configure_logging
from aphub.migrate import migrate
from aphub.progress import Counted, migrations_reported


async def _migrate() -> None:
    with migrations_reported():
        await migrate(resolve_migration_url(get_settings()))
    print("database migrated to head")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from aphub.sharing.policy import PolicyError, load_policy

    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        load_policy(settings.sharing_policy)
    except PolicyError as exc:
        print(f"aphub will not start: invalid sharing policy: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.workers > 1:
        _metrics_across_workers(settings.data_dir)
    if settings.migrate_on_start:
        # once, before the workers start (each would otherwise migrate on its start)
        with migrations_reported():
            asyncio.run(migrate(resolve_migration_url(settings)))
        os.environ["APHUB_MIGRATE_ON_START"] = "false"
        get_settings.cache_clear()
    base = f"http://{args.host}:{args.port}"
    print(
        f"aphub on {base}\n"
        f"  REST docs   {base}/docs   (ReDoc {base}/redoc)\n"
        f"  GraphiQL    {base}/graphql\n"
        f"  oversight   {base}/oversight   (sign in with a local authority's client)\n"
        f"  demo clients (if loaded): {(settings.data_dir / 'demo-clients.json').resolve()}",
        flush=True,
    )
    uvicorn.run(
        "aphub.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        proxy_headers=True,
    )


def _metrics_across_workers(data_dir: Path) -> None:
    """Several workers: each writes its metrics to files that a scrape, whichever worker
    answers it, sums (prometheus_client's multiprocess mode). The directory is emptied
    first: files of a previous run would count again."""
    import os
    import shutil

    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    directory = Path(configured) if configured else data_dir / "metrics"
    if not configured:
        shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def cmd_migrate(_args: argparse.Namespace) -> None:
    asyncio.run(_migrate())


def cmd_demo(args: argparse.Namespace) -> None:
    from aphub.demo import load_demo

    async def run() -> None:
        settings = get_settings()
        await migrate(resolve_migration_url(settings))
        database = hub_database()
        try:
            await load_demo(database, settings, only_if_empty=args.if_empty)
        finally:
            await database.dispose()

    asyncio.run(run())


def _public_keys(path: str) -> dict[str, object]:
    """A JWK Set from a file holding a PEM public key, a JWK or a JWK Set."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    raw = Path(path).read_bytes()
    if raw.lstrip().startswith(b"{"):
        document = json.loads(raw)
        return document if "keys" in document else {"keys": [document]}
    try:
        key = serialization.load_pem_public_key(raw)
    except ValueError:
        raise SystemExit(f"{path}: neither a PEM public key nor a JWK (Set)") from None
    if isinstance(key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise SystemExit(f"{path}: keys must be RSA or EC P-256")
    jwk.pop("key_ops", None)
    return {"keys": [jwk]}


def _credentials(args: argparse.Namespace) -> object:
    from aphub.auth.issuers import load_issuers
    from aphub.auth.service import AdmittedIssuer, PublicKeys

    if args.jwks_url:
        return PublicKeys(jwks_uri=args.jwks_url)
    if args.public_key:
        return PublicKeys(jwks=_public_keys(args.public_key))
    if args.issuer:
        settings = get_settings()
        issuer = load_issuers(settings.oidc_issuers, own_issuer=settings.issuer).find(args.issuer)
        if issuer is None:
            raise SystemExit(f"no external issuer {args.issuer!r} in APHUB_OIDC_ISSUERS")
        return AdmittedIssuer(issuer.issuer)
    return None


def cmd_clients_create(args: argparse.Namespace) -> None:
    from aphub.auth.service import Credentials, create_client
    from aphub.errors import Problem
    from aphub.events.log import Actor

    credentials: Credentials = _credentials(args)  # type: ignore[assignment]

    async def run() -> None:
        database = hub_database()
        try:
            async with database.writing() as uow:
                issued = await create_client(
                    uow,
                    uuid.UUID(args.organisation),
                    args.name,
                    args.scope or None,
                    Actor.system("cli"),
                    credentials,
                )
            client = issued.client
            printed: dict[str, object] = {
                "client_id": client.client_id,
                "organisation_id": str(client.organisation_id),
                "scopes": client.scopes,
                "authentication": client.authentication,
            }
            if issued.client_secret is not None:
                printed["client_secret"] = issued.client_secret
            if client.jwks_uri or client.jwks:
                printed |= {"jwks_uri": client.jwks_uri, "key_ids": client.key_ids}
            if client.issuer:
                printed["issuer"] = client.issuer
            print(json.dumps(printed, indent=2))
        except Problem as problem:
            raise SystemExit(f"refused: {problem.detail}") from None
        finally:
            await database.dispose()

    asyncio.run(run())


def cmd_verify_log(args: argparse.Namespace) -> None:
    from aphub.auth.keys import KeyRing
    from aphub.events.checkpoints import CheckpointError, prefix_of_chain, verify_signature
    from aphub.events.verify import verify_chain

    checkpoint = json.loads(Path(args.checkpoint).read_text()) if args.checkpoint else None

    async def run() -> bool:
        database = hub_database()
        counted = Counted("verify-log", "events verified")
        try:
            result = await verify_chain(database, progress=counted)
            counted.finish()
            if checkpoint is not None and result.ok:
                try:
                    verify_signature(checkpoint, KeyRing(get_settings().data_dir))
                    await prefix_of_chain(database, checkpoint)
                except CheckpointError as exc:
                    print(f"event log does NOT extend the checkpoint: {exc}", file=sys.stderr)
                    return False
        finally:
            await database.dispose()
        if result.ok:
            print(f"event log verified: {result.checked} events, chain intact")
            if checkpoint is not None:
                print(
                    f"checkpoint of {checkpoint['tree_size']} events signed "
                    f"{checkpoint['signed_at']}: a prefix of today's chain"
                )
        else:
            print(
                f"event log BROKEN at seq {result.first_bad_seq} (event {result.first_bad_id}): "
                f"{result.reason}; {result.checked} events before it verified",
                file=sys.stderr,
            )
        if result.unsealed:
            print(
                f"{result.unsealed} committed events are waiting in the outbox to be sealed "
                "(the hub seals them on its next transition or at start-up)"
            )
        return result.ok

    if not asyncio.run(run()):
        sys.exit(1)


def cmd_webhooks_listen(args: argparse.Namespace) -> None:
    """Watch webhook deliveries on 127.0.0.1 (the demo's subscription by default)."""
    from aphub.demo.webhooks import LISTEN_PORT, read_secret
    from aphub.webhooks.listen import listen

    secret = args.secret or read_secret(get_settings())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(listen(secret, args.port or LISTEN_PORT))


def cmd_keys_rotate(_args: argparse.Namespace) -> None:
    from aphub.auth.keys import rotate_keys

    settings = get_settings()
    retired, new = rotate_keys(settings.data_dir)
    print(
        f"signing key {new} in service; {retired} retired (it verifies the tokens it signed, "
        "and stays in the JWKS, for the next 24 hours). Running hubs pick the new key up "
        "when they meet a token it signed, or on restart."
    )


def cmd_openapi(args: argparse.Namespace) -> None:
    from aphub.contracts import write_contracts

    for path in write_contracts(Path(args.out)):
        print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aphub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (migrates first unless disabled)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo area")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty database")
    demo.set_defaults(func=cmd_demo)

    clients = sub.add_parser("clients", help="API client credentials")
    clients_sub = clients.add_subparsers(dest="clients_command", required=True)
    create = clients_sub.add_parser("create", help="issue credentials for an organisation")
    create.add_argument("--organisation", required=True, help="organisation id")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", help="repeat; default: the type's scopes")
    method = create.add_mutually_exclusive_group()
    method.add_argument(
        "--jwks-url", help="private_key_jwt: the https URL where the client publishes its keys"
    )
    method.add_argument(
        "--public-key",
        metavar="FILE",
        help="private_key_jwt: the client's public key (PEM, or a JWK or JWK Set as JSON)",
    )
    method.add_argument(
        "--issuer", help="admit the external OIDC issuer of this name (from APHUB_OIDC_ISSUERS)"
    )
    create.set_defaults(func=cmd_clients_create)

    verify = sub.add_parser(
        "verify-log", help="recompute the event log's hash chain; exit 1 naming the first bad event"
    )
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="a signed checkpoint (JSON, as the feed carries it) that the chain must extend",
    )
    verify.set_defaults(func=cmd_verify_log)
    keys = sub.add_parser("keys", help="the hub's signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "rotate", help="retire the signing key (it verifies its tokens for 24 hours) and make one"
    ).set_defaults(func=cmd_keys_rotate)

    jobs = sub.add_parser("jobs", help="run the scheduled jobs, now or on their schedule")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    concerns = jobs_sub.add_parser(
        "run-concerns", help="raise the attendance concerns due (each once, however often run)"
    )
    concerns.add_argument(
        "--as-of", help="compute as at this date (its end) or date and time; default now"
    )
    concerns.set_defaults(func=cmd_jobs_run_concerns)
    education = jobs_sub.add_parser(
        "run-education",
        help="raise and clear the out-of-education flags due (sixth-day breaches, part-time "
        "timetables past review, children waiting for a place, children missing education)",
    )
    education.add_argument("--as-of", help="compute for this date (YYYY-MM-DD); default today")
    education.set_defaults(func=cmd_jobs_run_education)
    serve_jobs = jobs_sub.add_parser(
        "serve", help="run the scheduled jobs in this process, every APHUB_JOBS_INTERVAL_MINUTES"
    )
    serve_jobs.add_argument(
        "--only",
        action="append",
        choices=job_names(),
        help="run only this job (repeat for more); default: all",
    )
    serve_jobs.set_defaults(func=cmd_jobs_serve)

    webhooks = sub.add_parser("webhooks", help="webhook tools").add_subparsers(
        dest="webhooks_command", required=True
    )
    listen = webhooks.add_parser(
        "listen", help="print verified webhook deliveries received on 127.0.0.1"
    )
    listen.add_argument("--port", type=int, help="default 8765 (the demo subscription's)")
    listen.add_argument("--secret", help="default: the demo's, from demo-webhook.json")
    listen.set_defaults(func=cmd_webhooks_listen)

    openapi = sub.add_parser("openapi", help="write openapi.json and schema.graphql")
    openapi.add_argument("--out", default="openapi")
    openapi.set_defaults(func=cmd_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)
