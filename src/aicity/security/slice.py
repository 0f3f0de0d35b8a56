"""The security slices: the audit ledger's API (`audit`), the guard pipeline (`guard`), the
approval queue (`approvals`) and the security center (`security`)."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice, Subscription

audit = Slice(
    id="audit",
    title="审计账本 tamper-evident audit ledger",
    depends_on=("identity",),
    routers=(HttpRouter("aicity.security.api:router"),),
    commands=(Command("audit", "aicity.security.cli:app", "审计账本 tamper-evident audit ledger"),),
    # what changes what the city knows or serves lands in the ledger (core/audit.py audit_event)
    subscriptions=tuple(Subscription(topic, "aicity.core.audit:audit_event", "durable")
                        for topic in ("kb.document.ingested", "kb.document.deleted", "catalog.loaded")),
)

guard = Slice(
    id="guard",
    title="安全护栏 guard pipeline",
    depends_on=("audit", "identity"),
    routers=(HttpRouter("aicity.security.guard_api:router"),),
    commands=(Command("guard", "aicity.security.guard_cli:app", "安全护栏 guard pipeline: allow / mask / block"),),
    settings=(Section("guard", "aicity.security.guard_policy:GuardPolicy"),),
    startup=("aicity.security.attacks:warm",),  # the attack classifier trains in the background
)

approvals = Slice(
    id="approvals",
    title="审批队列 approvals of actions on the city",
    depends_on=("audit", "guard", "identity"),
    tables=("aicity.security.models",),
    routers=(HttpRouter("aicity.security.approvals_api:router"),),
    commands=(Command("approvals", "aicity.security.approvals_cli:app", "审批队列 approvals of actions on the city"),),
    pages=(Page("approvals", "审批", "pages/approvals.js", order=50),),
)

security = Slice(
    id="security",
    title="安全中心 security events and reports",
    depends_on=("audit", "events", "guard"),
    routers=(HttpRouter("aicity.security.events_api:router"),),
    commands=(Command("security", "aicity.security.report_cli:security", "安全报告 the security report",
                      parent="report"),),
    pages=(Page("security", "安全中心", "pages/security.js", order=60),),
)
