"""Operations: health, run statistics (fed by the bus), Prometheus metrics, evaluations."""

from aicity.core.slices import Command, HttpRouter, Slice, Subscription

ops = Slice(
    id="ops",
    title="运行 operations",
    depends_on=("assistant", "knowledge"),
    routers=(HttpRouter("aicity.ops.api:router"), HttpRouter("aicity.ops.api:metrics")),
    commands=(Command("eval", "aicity.ops.cli:app", "评测 Evaluations"),
              Command("backup", "aicity.ops.backup_cli:backup_command", "备份内嵌数据 Back up the embedded store"),
              Command("restore", "aicity.ops.backup_cli:restore_command", "从备份恢复 Restore from a backup"),),
    subscriptions=(Subscription("assistant.answered", "aicity.ops.metrics:counters.on_answer"),),
)
