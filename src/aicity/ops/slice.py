"""Operations: health, run statistics (fed by the bus), Prometheus metrics, evaluations."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice, Subscription

ops = Slice(
    id="ops",
    title="运行 operations",
    depends_on=("assistant", "events", "knowledge", "gateway"),
    tables=("aicity.ops.models", "aicity.ops.centre_models"),
    routers=(HttpRouter("aicity.ops.api:router"), HttpRouter("aicity.ops.api:metrics"),
             HttpRouter("aicity.ops.agents_api:router"), HttpRouter("aicity.ops.agents_api:feedback_router"),
             HttpRouter("aicity.ops.centre_api:router"), HttpRouter("aicity.ops.infra_api:router")),
    commands=(Command("eval", "aicity.ops.cli:app", "评测 Evaluations"),
              Command("backup", "aicity.ops.backup_cli:backup_command", "备份内嵌数据 Back up the embedded store"),
              Command("restore", "aicity.ops.backup_cli:restore_command", "从备份恢复 Restore from a backup"),
              Command("ops", "aicity.ops.ops_cli:app", "运营 operations: agents, feedback, unserved questions"),
              Command("assessment", "aicity.ops.assessment_cli:assessment", "智慧城市评估 the five-dimension assessment",
                      parent="report"),),
    pages=(Page("ops", "运营", "pages/ops.js", order=55),
           Page("ops_centre", "语料与模型", "pages/ops_centre.js", order=56),
           Page("infra", "基础设施", "pages/infra.js", order=57)),
    subscriptions=(Subscription("assistant.answered", "aicity.ops.metrics:counters.on_answer"),
                   # a router version promoted or rolled back: every process rebuilds its assistant
                   Subscription("ops.model.promoted", "aicity.ops.model_centre:on_promoted", "broadcast"),
                   # staff corrected an event's category: proposed to the corpus centre, once in the city
                   Subscription("events.corrected", "aicity.ops.corpus:on_event_corrected", "durable")),
    # slow statements timed in every process (ops/slowlog.py)
    activation=("aicity.ops.slowlog:watch_queries",),
    settings=(Section("infra", "aicity.ops.infra_settings:InfraSettings"),),
)
