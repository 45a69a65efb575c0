"""Read units on streaming replicas, with read-your-writes for the client that wrote.

A replica replays the primary's WAL a little behind it. Any reader may see the hub as it
was that little while ago, except the client that has just changed it: a client that
wrote and reads back must see its change (a placement it requested, the event its
transition appended). So each process remembers, per client, where the primary's WAL was
when that client's last write (and the sealing of its events) had committed, and a read
unit for that client goes to a replica only once the replica has replayed that far
(`pg_last_wal_replay_lsn()`, asked at most once per unit); until then it reads the
primary. Nothing waits: the primary answers at once.

The memory is per process: a client whose next request reaches another worker or another
instance is not known there, and may read a replica that has not caught up. Where that
matters, route each client to one instance (the load balancer hashing the
`Authorization` header), or keep `APHUB_DATABASE_REPLICA_URLS` unset.

A replica that cannot be reached is left alone for a few seconds; its reads go to the
primary meanwhile, so losing a replica costs capacity, not answers.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from aphub.db.pool import ConnectionPool, DatabaseUnavailable, HubConnection

log = logging.getLogger(__name__)

# how far a server has replayed the primary's WAL (a primary: how far it has written)
REPLAYED = (
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint"
)
RESTING_SECONDS = 5.0
_MAX_CLIENTS = 100_000


class Replicas:
    """The replicas of one process, and the WAL position each client last wrote at."""

    def __init__(self, pools: list[ConnectionPool]) -> None:
        self.pools = pools
        self._replayed = [0] * len(pools)  # the furthest each was seen to have replayed
        self._resting_until = [0.0] * len(pools)
        self._next = 0
        self._written: OrderedDict[str, int] = OrderedDict()
        self.served = [0] * len(pools)  # read units each has taken (tests, metrics)

    def wrote(self, client: str, position: int) -> None:
        """`client`'s write is committed (and its events sealed) at WAL `position`."""
        self._written[client] = max(position, self._written.get(client, 0))
        self._written.move_to_end(client)
        if len(self._written) > _MAX_CLIENTS:
            self._written.popitem(last=False)

    def must_see(self, client: str | None) -> int:
        """The WAL position a read for `client` must see (0: any replica will do)."""
        if client is None:
            return 0
        position = self._written.get(client, 0)
        if position and all(replayed >= position for replayed in self._replayed):
            del self._written[client]  # every replica has it: nothing more to wait for
            return 0
        return position

    async def acquire(self, client: str | None) -> tuple[ConnectionPool, HubConnection] | None:
        """A replica's connection for a read unit of `client`, or None: read the primary."""
        position = self.must_see(client)
        count = len(self.pools)
        now = time.monotonic()
        for step in range(count):
            index = (self._next + step) % count
            if self._resting_until[index] > now:
                continue
            pool = self.pools[index]
            try:
                connection = await pool.acquire()
            except DatabaseUnavailable:
                log.warning("a read replica is unavailable; reading the primary for a while")
                self._resting_until[index] = now + RESTING_SECONDS
                continue
            if position > self._replayed[index] and not await self._caught_up(
                index, connection, position
            ):
                pool.release(connection)
                continue
            self._next = (index + 1) % count
            self.served[index] += 1
            return pool, connection
        return None

    async def _caught_up(self, index: int, connection: HubConnection, position: int) -> bool:
        try:
            replayed = await connection.fetchval(REPLAYED)
        except Exception:
            log.warning("a read replica did not say how far it has replayed", exc_info=True)
            return False
        self._replayed[index] = max(self._replayed[index], int(replayed or 0))
        return self._replayed[index] >= position

    async def close(self) -> None:
        for pool in self.pools:
            await pool.close()
