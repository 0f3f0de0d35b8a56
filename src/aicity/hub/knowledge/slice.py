"""The knowledge center: documents, chunks, hybrid search, cited answers."""

from aicity.core.slices import Command, HttpRouter, Page, Slice, Subscription

knowledge = Slice(
    id="knowledge",
    title="知识中心 knowledge center",
    depends_on=("identity", "gateway"),
    tables=("aicity.hub.knowledge.models",),
    routers=(HttpRouter("aicity.hub.knowledge.api:router"),),
    commands=(Command("kb", "aicity.hub.knowledge.cli:app", "知识中心 Knowledge center"),),
    pages=(Page("knowledge", "知识中心", "pages/knowledge.js", order=20),),
    subscriptions=(Subscription("gateway.embedding.changed", "aicity.hub.knowledge.service:on_embedding_changed",
                                delivery="broadcast"),),
    startup=("aicity.hub.knowledge.law_prior:warm",),  # the legal answerer's law prior fits in the background
    demo="aicity.hub.knowledge.demo:load_demo",
    health="aicity.hub.knowledge.demo:health",
)
