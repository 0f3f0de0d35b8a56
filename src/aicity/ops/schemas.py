"""What the operations endpoints answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class DocumentCounts(BaseModel):
    documents: int
    chunks: int


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str
    worker: str = Field(description="应答进程的随机标识（`serve --workers N` 时区分工作进程，不暴露进程号）"
                                    "a random id of the answering process (tells N workers apart, no pid)")
    knowledge: DocumentCounts = Field(description="全局知识库的文档与分块数 the global knowledge base's size")
    slices: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="各切片的健康检查 each slice's health check (`Slice.health`), by slice id")


class RunStats(BaseModel):
    """Counters of assistant runs since the process started."""

    runs: int
    clarifications: int
    skills: dict[str, int] = Field(description="每个技能的调用次数 calls per skill")
    departments: dict[str, int]
    roles: dict[str, int]


class DeadLetter(BaseModel):
    """A durable bus event that failed `bus_max_attempts` times."""

    dead_id: str
    topic: str = ""
    id: str = Field(default="", description="the event id")
    attempts: str = ""
    error: str = Field(default="", description="the last handler error")
    payload: str = ""
    at: str = ""


class BusStats(BaseModel):
    """The bus: embedded (in-process), or Redis Streams with the durable group's backlog."""

    mode: str = Field(examples=["embedded", "redis"])
    durable: int = Field(description="entries in the durable stream")
    pending: int = Field(description="durable entries delivered but not yet acknowledged")
    dead_letters: int
    broadcast: int = Field(description="entries in the broadcast stream")
    dead: list[DeadLetter] = Field(default_factory=list, description="the newest dead letters")


class FeedbackRequest(BaseModel):
    """A verdict on one answer: 👍 up or 👎 down, and optionally why."""

    trace_id: str = Field(max_length=40, description="回答的轨迹编号（回答中的 trace_id）the answer's trace id")
    rating: str = Field(pattern="^(up|down)$", examples=["down"])
    reason: str = Field(default="", max_length=500, description="原因（可选）why, optional",
                        examples=["没有回答我问的材料清单"])


class FeedbackView(BaseModel):
    trace_id: str
    created_at: str
    rating: str
    reason: str
    role: str
    skills: list[str] = Field(description="作答的技能 the skills that answered (agent.skill)")


class SkillOps(BaseModel):
    """One skill's (or one agent's, summed over its skills) operations."""

    name: str = Field(description="agent.skill，或智能体 id / or an agent id")
    calls: int
    ok: int
    errors: int
    denied: int
    abstained: int
    input_tokens: int = Field(description="该技能内模型调用的输入 token（来自轨迹）model input tokens inside it")
    output_tokens: int
    up: int
    down: int
    success_rate: float | None
    abstention_rate: float | None
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    satisfaction: float | None = Field(description="好评占比 up / (up + down)")


class MeteredUse(BaseModel):
    """Calls and tokens through the gateway's meter, by calling component."""

    agent: str
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int


class QuestionCluster(BaseModel):
    """Questions that failed, were abandoned or were not served, grouped by meaning."""

    label: str = Field(description="最有区分度的字词 the cluster's most telling n-grams")
    size: int
    reasons: dict[str, int] = Field(description="down | error | abstained | abandoned | unserved → count")
    examples: list[str] = Field(description="问题（个人信息已脱敏）the questions, PII masked")


class AgentOps(BaseModel):
    days: int
    runs: int
    blocked: int
    abstained_runs: int
    clarifications: int
    feedback: dict[str, int]
    skills: list[SkillOps]
    agents: list[SkillOps]
    gateway: list[MeteredUse]
    failed: list[QuestionCluster]


class Indicator(BaseModel):
    name: str
    value: float | None = Field(description="现值；null 为未作答或暂无数据 null: not answered or no data")
    target: float
    better: str = Field(examples=["higher", "lower"])
    unit: str = Field(examples=["ratio", "count", "days", "ms", "minutes", "yesno"])
    source: str = Field(description="数据来源（服务函数或问卷）where the value comes from")
    attainment: float | None = Field(description="达成度 0–1 (value/target, or target/value when lower is better)")
    note: str | None = None
    dimension: str | None = None


class Dimension(BaseModel):
    title: str
    score: float = Field(description="0–100：有值指标达成度的平均 × 100")
    scored: int
    indicators: list[Indicator]


class Assessment(BaseModel):
    """The five dimensions: facilities, hub, applications, evolution, people."""

    period_days: int
    generated_at: str
    dimensions: dict[str, Dimension]
    weakest: list[Indicator] = Field(description="未达标的指标，最弱在前 indicators below target, weakest first")
    unanswered: list[Indicator]
