"""What a unit shares with its ORM session: the lock that keeps statements from
overlapping on its connection, and the session itself, bound to that connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from aphub.db.orm import borrowed

if TYPE_CHECKING:
    from aphub.db.units import ReadUnit


class TaskLock:
    """A lock the holding task may re-enter (AsyncSession's methods call one another)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if self._owner is task and task is not None:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    async def __aexit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class UnitSession(AsyncSession):
    """The ORM session of one unit: on the unit's connection, one call at a time."""

    def __init__(self, unit: ReadUnit) -> None:
        super().__init__(bind=unit.database.orm, expire_on_commit=False)
        self._unit = unit

    async def _call(self, method: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        unit = self._unit
        async with unit.lock:
            await unit._ready_for_orm()
            token = borrowed.set(unit.connection)
            try:
                return await method(*args, **kw)
            except BaseException as exc:
                unit._failed_with(exc)
                raise
            finally:
                borrowed.reset(token)

    async def execute(self, *args: Any, **kw: Any) -> Any:
        return await self._call(super().execute, *args, **kw)

    async def scalar(self, *args: Any, **kw: Any) -> Any:
        return await self._call(super().scalar, *args, **kw)

    async def scalars(self, *args: Any, **kw: Any) -> Any:
        return await self._call(super().scalars, *args, **kw)

    async def get(self, *args: Any, **kw: Any) -> Any:
        return await self._call(super().get, *args, **kw)

    async def flush(self, *args: Any, **kw: Any) -> None:
        await self._call(super().flush, *args, **kw)

    async def refresh(self, *args: Any, **kw: Any) -> None:
        await self._call(super().refresh, *args, **kw)

    async def delete(self, *args: Any, **kw: Any) -> None:
        await self._call(super().delete, *args, **kw)

    async def commit(self) -> None:
        raise RuntimeError("a unit's session never commits: the unit does")

    async def rollback(self) -> None:
        raise RuntimeError("a unit's session never rolls back: the unit does")
