"""Quotas of gateway keys: requests and tokens per minute (moving windows) and a monthly
token budget. Windows live in memory (one process), or in Redis, shared by every worker,
when `redis_url` is set (core/scale.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from limits import RateLimitItemPerMinute
from limits.strategies import MovingWindowRateLimiter

from aicity.core import scale
from aicity.core.errors import forbidden, too_many
from aicity.hub.gateway.metering import REJECTED, UsageMeter


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    owner: str
    groups: tuple[str, ...]
    rpm: int | None
    tpm: int | None
    monthly_token_budget: int | None


def _seconds_to_next_month() -> float:
    now = datetime.now(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    nxt = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    return (nxt - now).total_seconds()


class Quotas:
    def __init__(self, meter: UsageMeter) -> None:
        self.meter = meter

    @property
    def _limiter(self) -> MovingWindowRateLimiter:
        return scale.limiter()

    def admit(self, key: KeyInfo, group: str, prompt_tokens: int) -> None:
        """Raise 403 for a group the key may not use and 429 (with Retry-After) for a key
        over its rate or budget; otherwise count the request."""
        if key.groups and group not in key.groups:
            REJECTED.labels("group-not-allowed").inc()
            raise forbidden(f"密钥 {key.name} 无权使用模型组 {group} / key may not use this group; "
                            f"allowed: {', '.join(key.groups)}", "group-not-allowed")
        if key.monthly_token_budget is not None and self.meter.month_tokens(key.id) >= key.monthly_token_budget:
            REJECTED.labels("budget").inc()
            raise too_many(f"密钥 {key.name} 本月 token 预算 {key.monthly_token_budget} 已用完 / monthly budget spent",
                           _seconds_to_next_month(), "budget-exhausted")
        if key.tpm is not None:
            item = RateLimitItemPerMinute(key.tpm)
            if not self._limiter.test(item, "tpm", key.id, cost=min(prompt_tokens, key.tpm)):
                REJECTED.labels("tpm").inc()
                raise too_many(f"密钥 {key.name} 超出每分钟 token 上限 {key.tpm} / tokens per minute",
                               self._reset_in(item, "tpm", key.id), "tpm-exceeded")
        if key.rpm is not None:
            item = RateLimitItemPerMinute(key.rpm)
            if not self._limiter.hit(item, "rpm", key.id):
                REJECTED.labels("rpm").inc()
                raise too_many(f"密钥 {key.name} 超出每分钟请求上限 {key.rpm} / requests per minute",
                               self._reset_in(item, "rpm", key.id), "rpm-exceeded")

    def spend(self, key: KeyInfo, tokens: int) -> None:
        """Count the tokens a call used in the key's per-minute window."""
        if key.tpm is None or tokens <= 0:
            return
        item = RateLimitItemPerMinute(key.tpm)
        if not self._limiter.hit(item, "tpm", key.id, cost=min(tokens, key.tpm)):
            remaining = self._limiter.get_window_stats(item, "tpm", key.id).remaining
            if remaining > 0:  # fill the window: the next call waits for it to move
                self._limiter.hit(item, "tpm", key.id, cost=remaining)

    def _reset_in(self, item: RateLimitItemPerMinute, *ids: str) -> float:
        return self._limiter.get_window_stats(item, *ids).reset_time - time.time()
