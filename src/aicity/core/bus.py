"""The event bus: slices announce what happened without knowing who listens.

Embedded (the default): every handler runs synchronously in the publisher's process, in
publish order; a failing handler is logged and does not stop the others or the publisher.

Each subscription says how it is delivered when the city runs as several processes
(`redis_url` set, docs/scale-out.md), and a transport (core/streams.py, Redis Streams) is
attached to the bus:
- `local`: in the publisher's process only, as embedded (process metrics, chains whose steps
  share the process's memory);
- `broadcast`: in the publisher's process at once, and in every other process of the city
  soon after (caches and search indexes that each process holds);
- `durable`: once in the cluster, at least once, by a background worker's consumer (work that
  writes shared state: the twin mirror, the audit ledger); a handler runs at most once per
  event id, failures are retried with backoff and end in a dead-letter stream. The "done"
  mark is written after the handler returns, so a handler that writes the platform database
  records its own run in the same transaction (`delivery()` and core/handled.py) to stay
  exactly-once when a worker dies between its commit and that mark.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, NamedTuple, Protocol

from aicity.core.ids import new_id

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
Delivery = Literal["local", "broadcast", "durable"]
DELIVERIES: tuple[Delivery, ...] = ("local", "broadcast", "durable")


class DeliveryKey(NamedTuple):
    """The durable delivery a handler is running in: its idempotency key."""

    event_id: str
    handler: str


_delivery: ContextVar[DeliveryKey | None] = ContextVar("aicity_bus_delivery", default=None)


def delivery() -> DeliveryKey | None:
    """(event id, handler name) while a durable handler runs on an event from the transport;
    None in the embedded bus (every handler runs once, in the publisher's call)."""
    return _delivery.get()


@contextmanager
def delivering(event_id: str, handler: Handler) -> Iterator[DeliveryKey]:
    """Run a durable handler as the delivery of `event_id` (core/streams.py)."""
    key = DeliveryKey(event_id, handler_name(handler))
    token = _delivery.set(key)
    try:
        yield key
    finally:
        _delivery.reset(token)


class Transport(Protocol):
    """What carries events to the other processes (core/streams.py)."""

    def send(self, topic: str, payload: dict[str, Any], event_id: str, delivery: Delivery) -> None: ...


def handler_name(handler: Handler) -> str:
    """A handler's stable name across processes (its idempotency key): `module:qualname`."""
    module = getattr(handler, "__module__", None) or type(handler).__module__
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    owner = getattr(handler, "__self__", None)  # a bound method: name it by its class
    if owner is not None and not isinstance(owner, type):
        name = f"{type(owner).__qualname__}.{getattr(handler, '__name__', name)}"
    return f"{module}:{name}"


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[Handler, Delivery]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._transport: Transport | None = None

    def subscribe(self, topic: str, handler: Handler, delivery: Delivery = "local") -> Callable[[], None]:
        """Subscribe to `topic` (or `*` for all); returns a function that unsubscribes."""
        if delivery not in DELIVERIES:
            raise ValueError(f"delivery must be one of {DELIVERIES}, not {delivery!r}")
        entry = (handler, delivery)
        with self._lock:
            self._handlers[topic].append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._handlers[topic]:
                    self._handlers[topic].remove(entry)

        return unsubscribe

    def attach(self, transport: Transport | None) -> None:
        """Carry `broadcast` and `durable` events through `transport` (None: embedded again)."""
        self._transport = transport

    @property
    def transport(self) -> Transport | None:
        return self._transport

    def handlers(self, topic: str, delivery: Delivery | None = None) -> list[Handler]:
        """The handlers of `topic` (and of `*`), of one delivery or all."""
        with self._lock:
            found = [*self._handlers.get(topic, ()), *self._handlers.get("*", ())]
        return [h for h, d in found if delivery is None or d == delivery]

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        transport = self._transport
        if transport is None:
            self.run(topic, payload, self.handlers(topic))
            return
        event_id = new_id("evt")
        self.run(topic, payload, [*self.handlers(topic, "local"), *self.handlers(topic, "broadcast")])
        for delivery in ("broadcast", "durable"):
            if not self.handlers(topic, delivery):
                continue
            try:
                transport.send(topic, payload, event_id, delivery)
            except Exception:  # the broker is away: deliver here rather than lose the event
                log.warning("bus transport failed for %s (%s); delivering in this process", topic, delivery,
                            exc_info=True)
                if delivery == "durable":
                    self.run(topic, payload, self.handlers(topic, "durable"))

    def run(self, topic: str, payload: dict[str, Any], handlers: list[Handler]) -> None:
        for handler in handlers:
            try:
                handler(topic, payload)
            except Exception:  # a listener's bug must not break the publisher
                log.exception("bus handler %r failed on %s", handler, topic)


bus = EventBus()
