"""Which durable handler has handled which event, recorded in the handler's own transaction.

The durable bus (core/streams.py) marks a handler done for an event id in Redis after the
handler returns; a worker killed between the handler's commit and that mark gets the event
again. A handler that writes the platform database closes that window by calling `first()` in
the transaction that does its work: the (event id, handler) row commits with the work or not
at all, and a redelivery finds it and does nothing. Two racing deliveries both insert it; the
primary key fails one commit, and its retry finds the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from aicity.core.bus import DeliveryKey
from aicity.core.db import Base
from aicity.core.ids import utcnow


class HandledEvent(Base):
    """One durable handler's work for one event id, committed with that work."""

    __tablename__ = "bus_handled"

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    handler: Mapped[str] = mapped_column(String(300), primary_key=True)
    at: Mapped[datetime]
    #: what the work produced, for a redelivery to answer with (e.g. an audit entry's seq)
    ref: Mapped[str] = mapped_column(String(200), default="")


def seen(s: Session, key: DeliveryKey | None) -> HandledEvent | None:
    """The record of `key`'s work, when it committed already (None outside a durable delivery)."""
    return None if key is None else s.get(HandledEvent, (key.event_id, key.handler))


def mark(s: Session, key: DeliveryKey | None, ref: str = "") -> None:
    """Record `key`'s work in `s`, the transaction that does it (nothing outside a delivery)."""
    if key is not None:
        s.add(HandledEvent(event_id=key.event_id, handler=key.handler, at=utcnow(), ref=ref))
