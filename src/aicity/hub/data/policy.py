"""Usage policies of data-space offers: a documented subset of ODRL 2.2 (docs/data-policy.md).

A policy is ODRL JSON-LD shaped JSON (`@context`, `@type`, `permission` / `prohibition` rules
with `action`, `assignee`, `constraint` and `duty`). `parse_policy()` validates its shape with
pydantic and then its meaning: a policy that contradicts itself (an action both permitted and
prohibited for the same consumer, an expiry already past, a row-level action under aggregate-only
constraints, a minimum group size below 1, a privacy budget ≤ 0 …) is a 422 problem naming the
contradiction. What the platform enforces is the `Terms` the policy resolves to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aicity.core.errors import Problem

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
#: actions of this subset: `aggregate` (odrl:aggregate; aggregate queries next to the data),
#: `read` (row-level reading), `download` (aicity:download; a copy leaves the hub)
ACTIONS = ("aggregate", "read", "download")
#: duties the platform knows how to fulfil
DUTIES = ("recordUse",)
#: left operands and the operators each takes
OPERANDS: dict[str, tuple[str, ...]] = {
    "purpose": ("eq", "isAnyOf"),
    "dateTime": ("lt", "lteq"),
    "count": ("lt", "lteq"),
    "minGroupSize": ("gteq",),
    "epsilonBudget": ("lteq",),
}
#: constraints that only make sense for aggregate queries
AGGREGATE_ONLY = ("minGroupSize", "epsilonBudget")
#: a minimum group size when a policy names none
DEFAULT_MIN_GROUP = 10
_PREFIXES = ("odrl:", "aicity:", "http://www.w3.org/ns/odrl/2/")


def _bare(value: str) -> str:
    """`odrl:aggregate` → `aggregate`, `aicity:minGroupSize` → `minGroupSize`."""
    for prefix in _PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


class PolicyContradiction(Problem):
    """A policy that cannot be satisfied as written: 422, naming the contradiction."""

    def __init__(self, detail: str, contradiction: str) -> None:
        super().__init__(422, "使用策略自相矛盾 Contradictory usage policy", detail, "policy-contradiction",
                         contradiction=contradiction)


def invalid_policy(detail: str) -> Problem:
    return Problem(422, "使用策略不合法 Invalid usage policy", detail, "invalid-policy")


class Constraint(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    left_operand: str = Field(alias="leftOperand")
    operator: str
    right_operand: str | int | float | list[str] = Field(alias="rightOperand")

    @field_validator("left_operand", "operator")
    @classmethod
    def _known(cls, value: str) -> str:
        return _bare(value)


class Duty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str

    @field_validator("action")
    @classmethod
    def _known(cls, value: str) -> str:
        bare = _bare(value)
        if bare not in DUTIES:
            raise ValueError(f"unknown duty '{value}'; known: {', '.join(DUTIES)}")
        return bare


class Rule(BaseModel):
    """A permission or a prohibition: an action, for whom (no assignee: every consumer), under
    which constraints, with which duties."""

    model_config = ConfigDict(extra="forbid")

    action: str
    assignee: list[str] = Field(default_factory=list)
    constraint: list[Constraint] = Field(default_factory=list)
    duty: list[Duty] = Field(default_factory=list)

    @field_validator("action")
    @classmethod
    def _action(cls, value: str) -> str:
        bare = _bare(value)
        if bare not in ACTIONS:
            raise ValueError(f"unknown action '{value}'; known: {', '.join(ACTIONS)}")
        return bare

    @field_validator("assignee", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Policy(BaseModel):
    """An ODRL 2.2 policy (Offer / Agreement / Set) in this subset."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    context: str | list[Any] | dict[str, Any] = Field(default=ODRL_CONTEXT, alias="@context")
    type: Literal["Offer", "Agreement", "Set", "odrl:Offer", "odrl:Agreement", "odrl:Set"] = Field(
        default="Offer", alias="@type")
    uid: str | None = None
    permission: list[Rule] = Field(min_length=1)
    prohibition: list[Rule] = Field(default_factory=list)

    def as_jsonld(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class Terms:
    """What the platform enforces for one consumer under a policy."""

    actions: tuple[str, ...]
    purposes: tuple[str, ...]  # empty: any purpose
    expires_at: dt.datetime | None
    query_quota: int | None
    min_group_size: int
    epsilon_budget: float | None
    duties: tuple[str, ...]

    @property
    def aggregate_only(self) -> bool:
        return self.actions == ("aggregate",)


def _value(c: Constraint, rule: str) -> Any:
    """The right operand checked against its left operand's type."""
    name, v = c.left_operand, c.right_operand
    if name not in OPERANDS:
        raise invalid_policy(f"{rule}: 未知约束 unknown constraint '{name}'; known: {', '.join(OPERANDS)}")
    if c.operator not in OPERANDS[name]:
        raise invalid_policy(f"{rule}: 约束 {name} 不支持运算符 '{c.operator}' "
                             f"constraint {name} takes {' | '.join(OPERANDS[name])}")
    try:
        if name == "purpose":
            values = [v] if isinstance(v, str) else v
            if not isinstance(values, list) or not values or not all(isinstance(p, str) and p.strip() for p in values):
                raise ValueError("purpose needs one or more non-empty strings")
            return tuple(p.strip() for p in values)
        if name == "dateTime":
            when = dt.datetime.fromisoformat(str(v))
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        if name in ("count", "minGroupSize"):
            if isinstance(v, bool) or not isinstance(v, int | str) or int(v) != float(v):
                raise ValueError(f"{name} needs an integer")
            return int(v)
        if isinstance(v, bool) or isinstance(v, list):
            raise ValueError(f"{name} needs a number")
        return float(v)
    except (TypeError, ValueError) as exc:
        raise invalid_policy(f"{rule}: 约束 {name} 的取值 {v!r} 无效 invalid value: {exc}") from None


def _constraints(rule: Rule, where: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for c in rule.constraint:
        value = _value(c, where)
        if c.left_operand in found and found[c.left_operand] != value:
            raise PolicyContradiction(
                f"{where}: 约束 {c.left_operand} 出现两次且取值不同 constraint {c.left_operand} is given twice "
                f"with different values ({found[c.left_operand]!r} vs {value!r})", "duplicate-constraint")
        found[c.left_operand] = value
    return found


def _covers(rule: Rule, consumer: str | None) -> bool:
    return not rule.assignee or consumer is None or consumer in rule.assignee


def _check(policy: Policy, now: dt.datetime) -> None:
    for i, rule in enumerate(policy.permission):
        where = f"permission[{i}] ({rule.action})"
        found = _constraints(rule, where)
        if rule.action != "aggregate":
            wrong = [name for name in AGGREGATE_ONLY if name in found]
            if wrong:
                raise PolicyContradiction(
                    f"{where}: {rule.action} 交出原始行，却带有仅适用于聚合查询的约束 {', '.join(wrong)} "
                    f"{rule.action} hands out rows, yet carries the aggregate-only constraint(s) {', '.join(wrong)}",
                    "row-action-with-aggregate-constraints")
        elif "epsilonBudget" not in found:
            raise invalid_policy(f"{where}: 聚合查询须声明差分隐私预算 an aggregate permission needs "
                                 "an aicity:epsilonBudget constraint")
        if "minGroupSize" in found and found["minGroupSize"] < 1:
            raise PolicyContradiction(f"{where}: 最小分组人数须 ≥ 1 minGroupSize {found['minGroupSize']} < 1",
                                      "min-group-size")
        if "epsilonBudget" in found and found["epsilonBudget"] <= 0:
            raise PolicyContradiction(f"{where}: 隐私预算须 > 0 epsilonBudget {found['epsilonBudget']} ≤ 0",
                                      "epsilon-budget")
        if "count" in found and found["count"] < 1:
            raise PolicyContradiction(f"{where}: 查询次数配额须 ≥ 1 count quota {found['count']} < 1", "query-quota")
        if "dateTime" in found and found["dateTime"] <= now:
            raise PolicyContradiction(f"{where}: 有效期 {found['dateTime'].isoformat()} 已过 "
                                      "the expiry date is already past", "expired")
        for j, ban in enumerate(policy.prohibition):
            # the same people: the ban covers everyone, or names someone the permission names (a ban of
            # some consumers under a permission for everyone is an exception, not a contradiction)
            both = set(rule.assignee) & set(ban.assignee) if ban.assignee else set(rule.assignee)
            same_people = not ban.assignee or bool(both)
            implied = ban.action == rule.action or (rule.action == "download" and ban.action == "read")
            if implied and same_people:
                who = "、".join(sorted(both)) if both else "所有使用方 every consumer"
                raise PolicyContradiction(
                    f"{where} 与 prohibition[{j}] ({ban.action}) 矛盾：对 {who} 既允许又禁止 "
                    f"{rule.action} is both permitted and prohibited for {who}", "permitted-and-prohibited")
    for j, ban in enumerate(policy.prohibition):
        if ban.constraint or ban.duty:
            raise invalid_policy(f"prohibition[{j}]: 本子集的禁止规则不带约束和义务 prohibitions take no "
                                 "constraints or duties in this subset")


def parse_policy(raw: dict[str, Any] | Policy, now: dt.datetime | None = None) -> Policy:
    """The policy, validated in shape and meaning; a 422 problem naming the fault otherwise."""
    if isinstance(raw, Policy):
        policy = raw
    else:
        try:
            policy = Policy.model_validate(raw)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise invalid_policy(f"策略格式不合法 malformed policy: {detail}") from None
    _check(policy, now or dt.datetime.now(dt.UTC))
    return policy


def terms_for(policy: Policy, consumer: str | None) -> Terms | None:
    """The terms that apply to `consumer` (None: to whoever the policy permits), or None when
    the policy permits them nothing."""
    rules = [r for r in policy.permission if _covers(r, consumer)]
    banned = {b.action for b in policy.prohibition if _covers(b, consumer)}
    rules = [r for r in rules if r.action not in banned]
    if not rules:
        return None
    merged: dict[str, Any] = {}
    for r in rules:
        for name, value in _constraints(r, r.action).items():
            merged.setdefault(name, value)
    actions = tuple(a for a in ACTIONS if any(r.action == a for r in rules))
    duties = tuple(sorted({d.action for r in rules for d in r.duty}))
    return Terms(actions=actions, purposes=merged.get("purpose", ()), expires_at=merged.get("dateTime"),
                 query_quota=merged.get("count"), min_group_size=merged.get("minGroupSize", DEFAULT_MIN_GROUP),
                 epsilon_budget=merged.get("epsilonBudget"), duties=duties)


def aggregate_policy(*, purposes: list[str], epsilon: float, min_group_size: int = DEFAULT_MIN_GROUP,
                     quota: int | None = None, expires: dt.datetime | None = None,
                     assignee: list[str] | None = None) -> dict[str, Any]:
    """The usual aggregate-only offer as ODRL JSON: aggregate permitted under the constraints
    given, with the duty to record each use; read and download prohibited."""
    constraint: list[dict[str, Any]] = [
        {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": purposes},
        {"leftOperand": "aicity:minGroupSize", "operator": "gteq", "rightOperand": min_group_size},
        {"leftOperand": "aicity:epsilonBudget", "operator": "lteq", "rightOperand": epsilon},
    ]
    if quota is not None:
        constraint.append({"leftOperand": "count", "operator": "lteq", "rightOperand": quota})
    if expires is not None:
        constraint.append({"leftOperand": "dateTime", "operator": "lt", "rightOperand": expires.isoformat()})
    permission: dict[str, Any] = {"action": "aggregate", "constraint": constraint,
                                  "duty": [{"action": "aicity:recordUse"}]}
    if assignee:
        permission["assignee"] = assignee
    return {"@context": ODRL_CONTEXT, "@type": "Offer", "permission": [permission],
            "prohibition": [{"action": "read"}, {"action": "download"}]}
