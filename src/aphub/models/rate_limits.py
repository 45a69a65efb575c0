"""The hub-wide request count of each client per rate-limit window (`aphub.auth.rate_limit`).

UNLOGGED: counts are worth nothing after a crash (a window lasts a minute), so they skip
the write-ahead log and cost the server no more than a cache would.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base


class RateLimitCount(Base):
    __tablename__ = "rate_limit_counts"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix seconds
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)
