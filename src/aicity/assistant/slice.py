"""The super assistant: routing, planning, dispatch and composition over every slice's agents."""

from aicity.core.slices import Command, HttpRouter, Page, Slice, Subscription

_RESET = "aicity.assistant.service:reset"

assistant = Slice(
    id="assistant",
    title="城市超级助理 the super assistant",
    depends_on=("agents", "approvals", "auth", "gateway", "guard", "knowledge", "mcp"),
    tables=("aicity.assistant.models",),
    routers=(
        # the assistant answers a key (or an address without one) at most so often a minute
        HttpRouter("aicity.assistant.api:router", dependencies=("aicity.identity.auth_api:assistant_rate_limit",)),
        HttpRouter("aicity.assistant.api:traces"),
        HttpRouter("aicity.assistant.agents_api:router"),
    ),
    commands=(Command("ask", "aicity.assistant.cli:ask", "向城市超级助理提问 Ask the super assistant"),
              Command("unserved", "aicity.assistant.cli:unserved", "目录未覆盖的诉求 Requests the catalog could not serve"),
              Command("agents", "aicity.assistant.agents_cli:agents_app", "列出智能体与技能 List agents and their skills.",
                      activate=False)),
    pages=(Page("chat", "超级助理", "pages/chat.js", order=10),),
    startup=("aicity.assistant.service:warm_up", "aicity.assistant.studio_runs:serve_models"),
    subscriptions=tuple(Subscription(topic, _RESET, "broadcast") for topic in
                        ("catalog.loaded", "kb.document.ingested", "kb.document.deleted", "gateway.embedding.changed",
                         "studio.agent.changed"))
    + (Subscription("studio.agent.changed", "aicity.assistant.studio_runs:on_changed", "broadcast"),),
    # `aicity-assistant` is a local model of the gateway's /v1/chat/completions
    # and the approval queue runs approved calls with the assistant's agents
    # co-created agents (agents/studio) run with the assistant: their chat, test and routing checks
    # the skills and `ask` served at /mcp, and the executor chained for outside tools' approved calls
    # (after serve_approvals: it hands every other approved call to the assistant's executor)
    activation=("aicity.assistant.openai_api:register", "aicity.assistant.service:serve_approvals",
                "aicity.assistant.studio_runs:register", "aicity.assistant.mcp_tools:register"),
)
