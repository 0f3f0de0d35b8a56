"""The guard's policy (`[aicity.guard]` in aicity.toml, or what an admin set at run time): what
each stage checks and does. Apart from the pipeline (guard.py) so that validating the settings,
which every command does, does not load the detectors' models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from aicity.security import pii
from aicity.security.findings import ATTACK_THRESHOLD
from aicity.security.normalize import MAX_CHARS

Stage = Literal["input", "retrieved", "tool", "output"]
STAGES: tuple[Stage, ...] = ("input", "retrieved", "tool", "output")
Verdict = Literal["allow", "mask", "block"]
#: what a prompt attack at or above the threshold does; below it a finding is only reported
AttackAction = Literal["block", "neutralise", "flag"]


class StagePolicy(BaseModel):
    """What one stage checks and does. `roles` overrides any of these fields for a role
    (e.g. `{"admin": {"attack_threshold": 0.9}}`)."""

    model_config = ConfigDict(extra="forbid")

    attacks: bool = Field(default=True, description="run the prompt-attack detector")
    attack_threshold: float = Field(default=ATTACK_THRESHOLD, ge=0, le=1,
                                     description="a finding at or above this score is acted on")
    on_attack: AttackAction = "flag"
    pii: bool = Field(default=True, description="run the personal-information detector")
    pii_types: list[str] | None = Field(default=None, description="the types looked for (null: all of pii.LABELS)")
    mask_pii: bool = Field(default=True, description="mask what it finds (false: report only)")
    mask_style: Literal["partial", "full"] = Field(default="partial",
                                                   description="138****5678, or the label [手机号]")
    payloads: bool = Field(default=False, description="mask script and shell payloads (<script>, rm -rf /)")
    content: bool = Field(default=True, description="run the content-risk detector (lexicon, malicious URLs)")
    on_illegal: Literal["block", "flag"] = Field(default="flag",
                                                 description="a request for illegal or violent content")
    mask_content: bool = Field(default=False, description="mask abusive words and malicious URLs")
    command_roles: list[str] = Field(default_factory=list, description=(
        "roles whose order to a named device (attacks.staff_intent 'command') the classifier alone does not act on: "
        "it is checked where it acts (approvals, permissions); rules and the other attack cues still block"))
    statistics_roles: list[str] = Field(default_factory=list, description=(
        "roles whose question of counts or shares (attacks.staff_intent 'statistics') the classifier alone does not act on"))
    roles: dict[str, dict[str, Any]] = Field(default_factory=dict, description="per-role overrides")
    _by_role: dict[str, StagePolicy] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _role_policies(self) -> StagePolicy:
        if unknown := set(self.pii_types or ()) - set(pii.LABELS):
            raise ValueError(f"pii_types: unknown {sorted(unknown)}; known: {sorted(pii.LABELS)}")
        base = self.model_dump(exclude={"roles"})
        for role, override in self.roles.items():
            if "roles" in override:
                raise ValueError(f"roles.{role}: overrides cannot nest roles")
            self._by_role[role] = StagePolicy.model_validate({**base, **override})
        return self

    def for_role(self, role: str | None) -> StagePolicy:
        return self._by_role.get(role or "", self)


#: each stage's defaults; a configuration changes only the fields it names
_STAGE_DEFAULTS: dict[Stage, dict[str, Any]] = {
    # staff's device orders and statistics questions read like tool abuse to the classifier (role-blind); the
    # action goes through approvals and permissions, so for these roles that intent alone does not block
    # (officials too: the device skills serve them, `city_safety.SAFETY_ROLES`, and queue for approval)
    "input": {"on_attack": "block", "on_illegal": "block", "command_roles": ["official", "operator", "admin"],
              "statistics_roles": ["official", "operator", "admin"]},
    # laws and notices quote crimes (毒品, 诈骗) as a matter of course
    "retrieved": {"on_attack": "neutralise", "pii": False, "content": False},
    "tool": {"on_attack": "neutralise", "pii": False, "content": False},
    # names and addresses are found from context (我叫…, 住在…), which legal text quoted in an
    # answer imitates (当事人…, 申请人…): in generated text only checked identifiers count
    "output": {"attacks": False, "payloads": True, "mask_style": "full", "pii_types": sorted(pii.STRUCTURED),
               "mask_content": True},
}


class ApprovalPolicy(BaseModel):
    """Who may ask for an `actuate` skill (作用于城市设施) and who approves it (security/approvals.py)."""

    model_config = ConfigDict(extra="forbid")

    request_roles: list[str] = Field(default=["official", "operator", "admin"],
                                     description="roles that may request an action on the city")
    approver_roles: list[str] = Field(default=["operator", "admin"], description="roles that may approve or reject")
    second_person: bool = Field(default=True, description="the approver must be someone other than the requester")
    expires_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60, description="a pending request lapses after this")


class GuardPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    max_chars: int = Field(default=MAX_CHARS, ge=1, le=MAX_CHARS, description="characters examined per check")
    input: StagePolicy
    retrieved: StagePolicy
    tool: StagePolicy
    output: StagePolicy

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        return {**raw, **{stage: {**defaults, **raw[stage]} if isinstance(raw.get(stage), dict) else
                          raw.get(stage, defaults) for stage, defaults in _STAGE_DEFAULTS.items()}}
