"""What the security slice's HTTP API answers: the audit ledger (entries, signed heads, RFC 6962 proofs;
a verification answers `core.audit.VerifyReport`), the guard (checks, policy, provenance), approvals and
security events. Where a route answers a dataclass as it is (`asdict`), the model is that dataclass, so the
two cannot drift apart."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aicity.security.events import SecurityEvent
from aicity.security.guard import Flag, GuardPolicy, Stage, Verdict

# --- audit ledger ---


class AuditEntryView(BaseModel):
    seq: int = Field(description="序号，从 1 开始；第 seq 条是第 seq-1 片叶子 1-based; entry seq is leaf seq-1")
    time: str = Field(description="ISO 8601 time (UTC)")
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    leaf_hash: str = Field(description="hex SHA-256(0x00 ‖ canonical JSON of the fields above)")


class AuditEntries(BaseModel):
    entries: list[AuditEntryView]


class SignedTreeHead(BaseModel):
    """RFC 6962 §3.5 signed tree head (Ed25519)."""

    tree_size: int
    timestamp: int = Field(description="毫秒 milliseconds since the epoch")
    time: str = Field(description="ISO 8601 time (UTC)")
    root_hash: str
    signature: str
    signature_algorithm: str = Field(examples=["Ed25519"])
    log_id: str
    public_key: str = Field(description="PEM")


class InclusionProof(BaseModel):
    """RFC 6962 §2.1.1 audit path of one entry."""

    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str] = Field(description="hex hashes, leaf to root")


class ConsistencyProof(BaseModel):
    """RFC 6962 §2.1.2 proof that the tree of `first` entries is a prefix of the one of `second`."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


# --- guard and provenance ---


class CheckResult(BaseModel):
    stage: Stage
    verdict: Verdict
    findings: list[Flag] = Field(description="发现 what was found: kind (pii | attack | payload | content), type, "
                                            "where (start, end), rule, score, action")
    text: str = Field(description="可放行的文字（个人信息已遮盖）；拦截时为空 the text as it may pass; '' when blocked")


class GuardPolicyView(GuardPolicy):
    source: str = Field(description="file (aicity.toml) | runtime (set through the API)")


class ProvenanceView(BaseModel):
    id: str
    kind: str = Field(description="answer | report")
    time: str
    producer: str
    sources: list[Any] = Field(description="引用的段落 [{doc, locator}] the passages it cites")
    sha256: str
    signature: str
    signature_algorithm: str
    signature_valid: bool


class MarkView(BaseModel):
    valid: bool = Field(description="由本平台密钥签名 signed by this platform's key")
    id: str | None
    time: str | None
    hash_prefix: str | None
    count: int = Field(description="带此水印的段落数 paragraphs carrying it")
    record: ProvenanceView | None


class TextVerification(BaseModel):
    status: str = Field(description="intact | edited | unmarked | forged")
    message: str
    sha256: str
    marks: list[MarkView]
    ok: bool


class MarkedText(BaseModel):
    id: str
    text: str = Field(description="带不可见水印的回答 the answer with the invisible mark")


# --- approvals and security events ---


class Approver(BaseModel):
    actor: str
    at: str
    note: str


class ApprovalView(BaseModel):
    """An approval request as staff read it (personal information masked), with its approvals so far."""

    id: str
    agent: str
    skill: str
    params: dict[str, Any]
    reason: str
    requester: str
    requester_role: str
    department: str | None
    status: str
    created_at: str
    expires_at: str
    decided_by: str | None
    decided_at: str | None
    note: str
    result: dict[str, Any] | None
    trace_id: str | None
    approvals_needed: int = Field(description="需要几位审批人（申请人以外）how many approvers it needs")
    approved_by: list[Approver] = Field(description="已批准的审批人 who has approved, in order")
    progress: str = Field(description="审批进度，如 需要 2 人审批，已批 1 人")


class RuleCount(BaseModel):
    rule: str
    count: int


class SecuritySummary(BaseModel):
    total: int
    by_type: dict[str, int]
    by_stage: dict[str, int]
    by_role: dict[str, int]
    top_rules: list[RuleCount]
    blocked_attacks: int
    approvals: dict[str, int]


class SecurityEvents(BaseModel):
    events: list[SecurityEvent] = Field(description="type: guard.block | guard.mask | guard.flag | approval.* | auth.* "
                                                    "| gateway.key.*; source: audit (ref = seq) | trace (ref = trace id)")
    summary: SecuritySummary
