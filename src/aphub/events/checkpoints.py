"""Signed checkpoints of the event log: the chain anchored outside the database.

Every few minutes (`aphub.jobs`) the hub signs the chain's head: its size (the last
sequence number) and hash, and the time, as a JWS with the key that signs its tokens
(verifiable with `/.well-known/jwks.json`). The feed carries the latest; clients keep the
ones they see. A superuser who deletes the newest events and rewinds the head leaves a
chain that verifies on its own, but not against a checkpoint published before:
`aphub verify-log --checkpoint FILE` proves that a kept checkpoint is a prefix of today's
chain (its event is there, with the same hash).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt

from aphub.auth.keys import ALGORITHM, KeyRing
from aphub.db import Database, ReadUnit, WriteUnit

ISSUER = "aphub:event-log"
_SIGN = (
    "INSERT INTO event_checkpoints (tree_size, head, signed_at, kid, signature) "
    "VALUES (:tree_size, :head, :signed_at, :kid, :signature) "
    "ON CONFLICT (tree_size) DO NOTHING"
)
_HEAD = "SELECT seq, hash FROM event_chain_head WHERE id = 1"
_LATEST = (
    "SELECT tree_size, head, signed_at, kid, signature FROM event_checkpoints "
    "ORDER BY tree_size DESC LIMIT 1"
)
_PAGE = (
    "SELECT tree_size, head, signed_at, kid, signature FROM event_checkpoints "
    "WHERE tree_size < :before ORDER BY tree_size DESC LIMIT :limit"
)


def as_json(row: Any) -> dict[str, Any]:
    return {
        "tree_size": int(row["tree_size"]),
        "head": row["head"],
        "signed_at": row["signed_at"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "kid": row["kid"],
        "signature": row["signature"],
    }


async def sign(unit: WriteUnit, keys: KeyRing) -> dict[str, Any] | None:
    """A checkpoint of the chain's head now (None for an empty log, or one already
    signed at this size)."""
    head = await unit.fetchrow(_HEAD)
    if head is None or not head["seq"]:
        return None
    signed_at = datetime.now(UTC).replace(microsecond=0)
    claims = {
        "iss": ISSUER,
        "tree_size": int(head["seq"]),
        "head": head["hash"],
        "signed_at": signed_at.isoformat().replace("+00:00", "Z"),
    }
    key = keys.current
    signature = jwt.encode(claims, key.private_key, ALGORITHM, headers={"kid": key.kid})
    values = {
        "tree_size": int(head["seq"]),
        "head": head["hash"],
        "signed_at": signed_at,
        "kid": key.kid,
        "signature": signature,
    }
    if await unit.execute(_SIGN, **values) == "INSERT 0 0":
        return None
    return as_json(values)


async def latest(unit: ReadUnit) -> dict[str, Any] | None:
    row = await unit.fetchrow(_LATEST)
    return None if row is None else as_json(row)


async def page(unit: ReadUnit, before: int | None, limit: int) -> list[dict[str, Any]]:
    rows = await unit.fetch(_PAGE, before=before or 2**62, limit=limit)
    return [as_json(r) for r in rows]


class CheckpointError(Exception):
    pass


def verify_signature(checkpoint: dict[str, Any], keys: KeyRing) -> None:
    """The checkpoint was signed by this hub's key and says what its signature says."""
    try:
        kid = jwt.get_unverified_header(str(checkpoint["signature"])).get("kid")
    except (KeyError, jwt.PyJWTError) as exc:
        raise CheckpointError("the checkpoint has no readable signature") from exc
    key = keys.verifying(str(kid)) if kid else None
    if key is None:
        raise CheckpointError(f"the checkpoint is signed by a key this hub does not know ({kid})")
    try:
        claims = jwt.decode(
            str(checkpoint["signature"]), key.public_key, algorithms=[ALGORITHM], issuer=ISSUER
        )
    except jwt.PyJWTError as exc:
        raise CheckpointError(f"the checkpoint's signature does not verify ({exc})") from exc
    for name in ("tree_size", "head"):
        if claims.get(name) != checkpoint.get(name):
            raise CheckpointError(f"the checkpoint's {name} is not what its signature says")


async def prefix_of_chain(database: Database, checkpoint: dict[str, Any]) -> None:
    """The checkpoint's event is in today's chain with the hash it had."""
    size = int(checkpoint["tree_size"])
    async with database.reading() as unit:
        stored = await unit.fetchval("SELECT hash FROM events WHERE seq = :seq", seq=size)
        head = await unit.fetchval("SELECT seq FROM event_chain_head WHERE id = 1")
    if stored is None:
        raise CheckpointError(
            f"the chain no longer holds event {size} that the checkpoint covers (its head is "
            f"at {head}): the log was cut back after the checkpoint was signed"
        )
    if stored != checkpoint["head"]:
        raise CheckpointError(
            f"event {size} has another hash than the checkpoint signed: the chain was "
            "rewritten after it"
        )
