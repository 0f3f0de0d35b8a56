"""Gateway configuration: deployments (where a model lives) grouped into model groups
(what callers ask for). Read from `[aicity.gateway]` in aicity.toml; an admin may replace
it at run time through the API."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Provider(StrEnum):
    openai = "openai"  # any OpenAI-compatible HTTP endpoint: vLLM, Ollama, DeepSeek, Qwen-compatible APIs
    llamacpp = "llamacpp"  # a local GGUF file through llama-cpp-python (optional extra)
    embedded = "embedded"  # the offline embedding model shipped with aicity (embeddings only)


class Strategy(StrEnum):
    weighted = "weighted"  # weighted random
    latency = "latency"  # lowest mean latency over a moving window
    priority = "priority"  # lowest priority number first; the others are fallbacks


class _DeploymentFields(BaseModel):
    """What a deployment is, but its key: shared by the configuration and what an admin reads back."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    group: str
    provider: Provider = Provider.openai
    base_url: str | None = Field(default=None, description="e.g. http://10.0.0.5:8000/v1")
    model: str = Field(default="", description="the model name upstream (or the GGUF path for llamacpp)")
    api_key_env: str | None = None
    weight: float = Field(default=1.0, gt=0)
    priority: int = 0
    timeout_s: float = Field(default=60.0, gt=0, description="whole call, or the wait for each chunk of a stream")
    context_window: int | None = Field(default=None, gt=0)


class Deployment(_DeploymentFields):
    api_key: str | None = Field(default=None, description="prefer api_key_env: keys in files leak")

    @model_validator(mode="after")
    def _endpoint(self) -> Self:
        if self.provider == Provider.openai and not self.base_url:
            raise ValueError(f"deployment {self.name}: an openai deployment needs base_url")
        if self.provider == Provider.llamacpp and not self.model:
            raise ValueError(f"deployment {self.name}: a llamacpp deployment needs model = path of a GGUF file")
        return self

    def secret(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else self.api_key

    def public(self) -> dict:
        """The deployment as an admin may read it back: the key itself never leaves."""
        return self.model_dump(mode="json", exclude={"api_key"}) | {"has_api_key": bool(self.secret())}


class ModelGroup(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    strategy: Strategy = Strategy.priority
    #: groups tried, in order, when every deployment of this one failed
    fallbacks: list[str] = []
    #: the group a request moves to when it is too long for this one's context window
    context_fallback: str | None = None
    retries: int = Field(default=2, ge=0, le=10, description="attempts after the first")
    description: str = ""


class BreakerSettings(BaseModel):
    failures: int = Field(default=3, ge=1, description="consecutive failures that open the breaker")
    cooldown_s: float = Field(default=30.0, gt=0, description="first wait before a probe; doubles per failed probe")
    max_cooldown_s: float = Field(default=300.0, gt=0)


class GatewayConfig(BaseModel):
    deployments: list[Deployment] = []
    groups: list[ModelGroup] = []
    breaker: BreakerSettings = BreakerSettings()
    backoff_s: float = Field(default=0.2, ge=0, description="first backoff before retrying the same deployment")
    max_backoff_s: float = Field(default=5.0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [d.name for d in self.deployments]
        if len(names) != len(set(names)):
            raise ValueError("deployment names must be unique")
        declared = {g.name for g in self.groups}
        if len(declared) != len(self.groups):
            raise ValueError("group names must be unique")
        # a group named only by its deployments gets the defaults
        for name in dict.fromkeys(d.group for d in self.deployments):
            if name not in declared:
                self.groups.append(ModelGroup(name=name))
        known = {g.name for g in self.groups}
        for g in self.groups:
            for ref in [*g.fallbacks, *([g.context_fallback] if g.context_fallback else [])]:
                if ref not in known:
                    raise ValueError(f"group {g.name}: fallback group '{ref}' does not exist")
        return self

    def group(self, name: str) -> ModelGroup | None:
        return next((g for g in self.groups if g.name == name), None)

    def deployments_of(self, group: str) -> list[Deployment]:
        return [d for d in self.deployments if d.group == group]

    def public(self) -> dict:
        return self.model_dump(mode="json", exclude={"deployments"}) | {
            "deployments": [d.public() for d in self.deployments]}


# --- HTTP answers (read models) ---


class DeploymentView(_DeploymentFields):
    """A deployment as an admin reads it back: whether it has a key, never the key."""

    has_api_key: bool


class GatewayConfigView(BaseModel):
    source: str = Field(description="aicity.toml | runtime (set through the API)")
    groups: list[ModelGroup]
    breaker: BreakerSettings
    backoff_s: float
    max_backoff_s: float
    deployments: list[DeploymentView]


class DeploymentHealth(BaseModel):
    name: str
    provider: Provider
    model: str
    state: str = Field(description="断路器 breaker: closed | open | half-open")
    consecutive_failures: int
    successes: int
    failures: int
    last_error: str | None
    mean_latency_ms: float | None
    probe_in_s: float = Field(description="距下次探测的秒数 seconds until the open breaker lets a probe through")


class GroupHealth(BaseModel):
    name: str
    strategy: Strategy
    fallbacks: list[str]
    context_fallback: str | None
    deployments: list[DeploymentHealth]
    status: str = Field(description="ok | degraded | down")


class GatewayHealth(BaseModel):
    status: str = Field(description="ok | degraded")
    groups: list[GroupHealth]


class GatewayKeyView(BaseModel):
    id: str
    name: str
    owner: str
    prefix: str = Field(description="密钥前缀，用于辨认 the key's first characters, to recognise it")
    groups: list[str]
    rpm: int | None
    tpm: int | None
    monthly_token_budget: int | None
    created_at: str = Field(description="ISO 8601 time")
    revoked: bool


class GatewayKeyCreated(GatewayKeyView):
    key: str = Field(description="密钥明文，只显示这一次 the key itself, shown this once")


class UsageRow(BaseModel):
    day: str
    key_id: str | None
    agent: str | None
    group: str
    deployment: str
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    mean_latency_ms: float | None


class UsageReport(BaseModel):
    rows: list[UsageRow]


class ModelCard(BaseModel):
    id: str
    object: str = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelCard]


class ChatMessageOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | None = None


class ChatChoice(BaseModel):
    model_config = ConfigDict(extra="allow")

    index: int
    message: ChatMessageOut
    finish_reason: str | None = None


class ChatCompletion(BaseModel):
    """OpenAI chat completion; upstream fields not named here pass through (and `citations`, `aicity` for the
    assistant). With `stream: true` the answer is `text/event-stream` chunks ending with `data: [DONE]`."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: dict[str, int] | None = None


class EmbeddingItem(BaseModel):
    object: str = "embedding"
    index: int
    embedding: list[float]


class EmbeddingList(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: str = "list"
    model: str
    data: list[EmbeddingItem]
    usage: dict[str, int] | None = None
