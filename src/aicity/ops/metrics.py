"""Run counters fed by the bus: how often each skill and department is used, by role."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RunCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.runs = 0
        self.clarifications = 0
        self.skills: Counter[str] = Counter()
        self.departments: Counter[str] = Counter()
        self.roles: Counter[str] = Counter()

    def on_answer(self, _topic: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self.runs += 1
            self.clarifications += bool(payload.get("clarification"))
            self.skills.update(payload.get("skills", []))
            self.departments.update(payload.get("departments", []))
            self.roles[payload.get("role", "?")] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"runs": self.runs, "clarifications": self.clarifications, "skills": dict(self.skills),
                    "departments": dict(self.departments), "roles": dict(self.roles)}


counters = RunCounters()  # subscribed to `assistant.answered` by the ops slice (ops/slice.py)
