"""Who may read and manage which knowledge base — decided by a policy (pycasbin, ABAC),
and applied inside retrieval, so no interface can see, cite or count what it may not read.

Levels (三级知识库): `global` (全局: everyone reads), `department` (部门: its department's
staff read; its operators and admins manage), `personal` (个人: the owning key reads and
manages). Admins read and manage everything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import casbin
from casbin import model as casbin_model

from aicity.identity.service import Principal

MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub_rule, obj_rule, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = eval(p.sub_rule) && eval(p.obj_rule) && r.act == p.act
"""

#: (subject rule, object rule, action); the city changes these, not the code
POLICY = [
    ("True", 'r.obj.level == "global"', "read"),
    ('r.sub.staff == True && r.sub.department == r.obj.department', 'r.obj.level == "department"', "read"),
    ('r.sub.key != "" && r.sub.key == r.obj.owner', 'r.obj.level == "personal"', "read"),
    ('r.sub.key != "" && r.sub.key == r.obj.owner', 'r.obj.level == "personal"', "manage"),
    ('r.sub.role == "operator" && r.sub.department == r.obj.department', 'r.obj.level == "department"', "manage"),
    ('r.sub.role == "admin"', "True", "read"),
    ('r.sub.role == "admin"', "True", "manage"),
]


@dataclass(frozen=True)
class Subject:
    role: str
    department: str
    key: str
    staff: bool


@dataclass(frozen=True)
class KbObject:
    level: str
    department: str
    owner: str


@lru_cache(maxsize=1)
def enforcer() -> casbin.Enforcer:
    model = casbin_model.Model()
    model.load_model_from_text(MODEL)
    e = casbin.Enforcer(model)
    for rule in POLICY:
        e.add_policy(*rule)
    return e


def subject(principal: Principal) -> Subject:
    return Subject(role=principal.role.value, department=principal.department or "",
                   key=principal.key_id or "", staff=principal.is_staff)


#: pycasbin evaluates a matcher by setting the names of one shared, cached expression: two threads
#: enforcing at once could read each other's request. Decisions are microseconds; take turns.
_enforce_lock = threading.Lock()


def allowed(principal: Principal, level: str, department: str | None, owner: str | None, action: str) -> bool:
    obj = KbObject(level=level, department=department or "\u0000", owner=owner or "\u0000")
    with _enforce_lock:
        try:
            return bool(enforcer().enforce(subject(principal), obj, action))
        except SystemError:
            # pycasbin parses its matcher (ast.parse) on every call, and CPython 3.11's AST builder checks a
            # recursion counter that another thread compiling at that moment can disturb (gh-106905, fixed in
            # later releases): the matcher is sound, so it is parsed once more
            return bool(enforcer().enforce(subject(principal), obj, action))
