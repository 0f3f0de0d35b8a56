"""Operations: health, run statistics (fed by the bus), Prometheus metrics, evaluations."""

from aicity.core.slices import Command, HttpRouter, Slice, Subscription

ops = Slice(
    id="ops",
    title="运行 operations",
    depends_on=("assistant", "knowledge"),
    routers=(HttpRouter("aicity.ops.api:router"), HttpRouter("aicity.ops.api:metrics")),
    commands=(Command("eval", "aicity.ops.cli:app", "评测 Evaluations"),),
    subscriptions=(Subscription("assistant.answered", "aicity.ops.metrics:counters.on_answer"),),
)
