"""The bus across processes, on Redis Streams (the distributed mode, docs/scale-out.md).

Streams (keys under `redis_prefix`):
- `bus:durable`: events with `durable` subscribers. One consumer group (`handlers`) is read
  by the background workers (`aicity worker`): each entry goes to one consumer, which runs
  every durable handler of its topic and acknowledges (XACK) only when all succeeded. A
  handler that succeeded is marked done for that event id (`bus:done:<event id>`, a hash
  kept `DONE_TTL_S`), so a redelivered event skips it: delivery is at least once, handling
  once per handler. The mark follows the handler's commit; a handler that writes the database
  also records (event id, handler) in its own transaction (core/handled.py), which covers a
  consumer killed between the two. Entries left pending (a handler failed, or its consumer was killed) are
  claimed again after `bus_claim_idle_s`, doubling per attempt (backoff); after
  `bus_max_attempts` deliveries an entry goes to `bus:dead` with its last error and is
  acknowledged. The dead letters are counted in `/metrics` and listed by `aicity bus dead`
  and `GET /api/v1/ops/bus`.
- `bus:broadcast`: events with `broadcast` subscribers; every process reads it from the time
  it started (plain XREAD, no group) and runs them, except the publisher's own (it ran them at
  once).

Redis' own persistence (AOF) keeps both over a restart; consumers reconnect with backoff and
read on from where the group stood, so a restarted Redis catches up without losing entries.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from aicity.core import db, scale
from aicity.core.bus import Delivery, EventBus, delivering, handler_name
from aicity.core.config import settings

log = logging.getLogger(__name__)

GROUP = "handlers"
#: how long a handler's "done" mark for an event id is kept
DONE_TTL_S = 7 * 24 * 3600
#: stream lengths kept (approximately: XADD MAXLEN ~)
MAXLEN = 100_000


def _stream(name: str) -> str:
    return scale.key("bus", name)


class RedisStreams:
    """The transport the bus sends `broadcast` and `durable` events through."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.origin = scale.process_name()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.consumer = self.origin

    @property
    def redis(self) -> Any:
        return scale.redis_client()

    # --- sending ----------------------------------------------------------------------------

    def send(self, topic: str, payload: dict[str, Any], event_id: str, delivery: Delivery) -> None:
        fields = {"topic": topic, "id": event_id, "origin": self.origin,
                  "payload": json.dumps(payload, ensure_ascii=False, default=str)}
        self.redis.xadd(_stream(delivery), fields, maxlen=MAXLEN, approximate=True)

    # --- broadcast: every process -----------------------------------------------------------

    def listen(self) -> RedisStreams:
        """Follow the broadcast stream from now on (every process of the city)."""
        self._spawn("bus-broadcast", self._listen)
        return self

    def _listen(self) -> None:
        last = "$"
        while not self._stop.is_set():
            try:
                if last == "$":  # pin the position first, so nothing published meanwhile is missed
                    newest = self.redis.xrevrange(_stream("broadcast"), count=1)
                    last = newest[0][0].decode() if newest else "0-0"
                found = self.redis.xread({_stream("broadcast"): last}, count=200, block=1000)
            except Exception:
                log.warning("bus broadcast: Redis unavailable, retrying", exc_info=True)
                self._stop.wait(1.0)
                continue
            for _stream_name, entries in found or ():
                for entry_id, fields in entries:
                    last = entry_id.decode()
                    if fields.get(b"origin", b"").decode() == self.origin:
                        continue
                    topic, payload = fields[b"topic"].decode(), json.loads(fields[b"payload"])
                    self.bus.run(topic, payload, self.bus.handlers(topic, "broadcast"))

    # --- durable: once in the cluster -------------------------------------------------------

    def consume(self) -> RedisStreams:
        """Take durable events as a member of the consumer group (the background workers)."""
        self._spawn("bus-durable", self._consume)
        return self

    def _ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(_stream("durable"), GROUP, id="0", mkstream=True)
        except Exception as exc:  # BUSYGROUP: it exists already
            if "BUSYGROUP" not in str(exc):
                raise

    def _consume(self) -> None:
        ready, delay, last_claim = False, 0.5, 0.0
        while not self._stop.is_set():
            try:
                if not ready:
                    self._ensure_group()
                    ready, delay = True, 0.5
                block_ms = int(min(500, max(50, settings().bus_claim_idle_s * 500)))  # reclaim on time too
                found = self.redis.xreadgroup(GROUP, self.consumer, {_stream("durable"): ">"}, count=100,
                                              block=block_ms)
                for _stream_name, entries in found or ():
                    for entry_id, fields in entries:
                        self.handle(entry_id.decode(), fields)
                if time.monotonic() - last_claim >= min(1.0, settings().bus_claim_idle_s):
                    last_claim = time.monotonic()
                    self.reclaim()
            except Exception:  # Redis restarting: wait, then carry on from the group's position
                log.warning("bus consumer: Redis unavailable, retrying in %.1f s", delay, exc_info=True)
                ready = False
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def handle(self, entry_id: str, fields: dict[bytes, bytes]) -> bool:
        """Run the durable handlers of one entry that have not run for its event id; XACK when
        all succeeded. Returns whether it was acknowledged."""
        topic, event_id = fields[b"topic"].decode(), fields[b"id"].decode()
        payload = json.loads(fields[b"payload"])
        done_key = scale.key("bus", "done", event_id)
        failed: str | None = None
        for handler in self.bus.handlers(topic, "durable"):
            name = handler_name(handler)
            if self.redis.hexists(done_key, name):
                continue
            try:
                with delivering(event_id, handler):
                    handler(topic, payload)
            except Exception as exc:
                log.exception("durable handler %s failed on %s (%s)", name, topic, event_id)
                failed = f"{name}: {type(exc).__name__}: {exc}"[:2000]
                continue
            pipe = self.redis.pipeline()
            pipe.hset(done_key, name, self.consumer)
            pipe.expire(done_key, DONE_TTL_S)
            pipe.execute()
        if failed is not None:
            self.redis.hset(scale.key("bus", "errors"), entry_id, failed)
            return False
        pipe = self.redis.pipeline()
        pipe.xack(_stream("durable"), GROUP, entry_id)
        pipe.hdel(scale.key("bus", "errors"), entry_id)
        pipe.execute()
        return True

    def reclaim(self) -> None:
        """Entries pending longer than their backoff: claimed and handled again here, or, past
        `bus_max_attempts`, moved to the dead-letter stream."""
        cfg = settings()
        base_ms = int(cfg.bus_claim_idle_s * 1000)
        pending = self.redis.xpending_range(_stream("durable"), GROUP, min="-", max="+", count=100, idle=base_ms)
        for p in pending:
            entry_id, attempts = p["message_id"].decode(), int(p["times_delivered"])
            wait_ms = base_ms * 2 ** max(0, attempts - 1)
            if int(p["time_since_delivered"]) < wait_ms:
                continue
            if attempts >= cfg.bus_max_attempts:
                self._bury(entry_id, attempts)
                continue
            for claimed_id, fields in self.redis.xclaim(_stream("durable"), GROUP, self.consumer, wait_ms,
                                                        [entry_id]):
                if fields:  # an entry trimmed away meanwhile comes back empty
                    self.handle(claimed_id.decode(), fields)

    def _bury(self, entry_id: str, attempts: int) -> None:
        found = self.redis.xrange(_stream("durable"), min=entry_id, max=entry_id)
        error = self.redis.hget(scale.key("bus", "errors"), entry_id)
        if found:
            fields = {k.decode(): v.decode() for k, v in found[0][1].items()}
            fields.update({"entry": entry_id, "attempts": str(attempts),
                           "error": error.decode() if error else "consumer lost", "at": str(time.time())})
            self.redis.xadd(_stream("dead"), fields, maxlen=MAXLEN, approximate=True)
        pipe = self.redis.pipeline()
        pipe.xack(_stream("durable"), GROUP, entry_id)
        pipe.hdel(scale.key("bus", "errors"), entry_id)
        pipe.execute()
        log.error("bus event %s moved to the dead-letter stream after %d attempts", entry_id, attempts)

    # --- lifecycle --------------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def stats() -> dict[str, Any]:
    """The bus's state for operators: mode, stream lengths, pending entries, dead letters."""
    if not scale.distributed():
        return {"mode": "embedded", "durable": 0, "pending": 0, "dead_letters": 0, "broadcast": 0}
    redis: Any = scale.redis_client()
    pending = 0
    try:
        pending = int(redis.xpending(_stream("durable"), GROUP)["pending"])
    except Exception as exc:  # no group yet (no worker has started)
        if "NOGROUP" not in str(exc):
            raise
    return {"mode": "redis", "durable": int(redis.xlen(_stream("durable"))), "pending": pending,
            "dead_letters": int(redis.xlen(_stream("dead"))), "broadcast": int(redis.xlen(_stream("broadcast")))}


def dead_letters(limit: int = 50) -> list[dict[str, str]]:
    """The newest dead letters (topic, event id, attempts, last error, payload)."""
    if not scale.distributed():
        return []
    redis: Any = scale.redis_client()
    return [{"dead_id": entry_id.decode(), **{k.decode(): v.decode() for k, v in fields.items()}}
            for entry_id, fields in redis.xrevrange(_stream("dead"), count=limit)]


def connect(bus: EventBus, consume: bool) -> Callable[[], None]:
    """Attach the Redis transport to `bus` (when `redis_url` is set): this process follows the
    broadcast stream, and with `consume` takes durable events. Returns what detaches it."""
    if not scale.distributed():
        return lambda: None
    # caches built from the database (core/db.py PerDatabase) are dropped in every process
    unsubscribe = bus.subscribe(db.INVALIDATED, db.on_invalidated, "broadcast")
    streams = RedisStreams(bus).listen()
    if consume:
        streams.consume()
    bus.attach(streams)

    def detach() -> None:
        bus.attach(None)
        unsubscribe()
        streams.close()

    return detach
