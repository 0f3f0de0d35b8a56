"""Where every number of the industry agent comes from: a question to the data hub's question
engine (`hub/data/ask.ask`, the same answer an analyst gets) or, for rows no question returns (the
chain map's nodes, the leads, a company's facts), the data hub's checked reader (`ask.run_sql`:
the same checks as a question's SQL). Each query is kept with its number (Q1, Q2 …), the
question, the SQL that ran and the datasets, so a report can show what produced each figure."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from aicity.core.errors import Problem
from aicity.hub.data import sqlcheck
from aicity.hub.data.ask import DataAnswer, ask, run_sql


class Query(BaseModel):
    id: str
    question: str | None = None
    sql: str
    datasets: list[str]


def literal(value: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class Queries:
    """The queries behind one piece of work (a chain map, a ranking, a report), numbered in order."""

    def __init__(self, role: str = "official", department: str | None = "commerce") -> None:
        self.role = role
        self.department = department
        self.items: list[Query] = []

    def _add(self, question: str | None, sql: str, datasets: list[str]) -> Query:
        q = Query(id=f"Q{len(self.items) + 1}", question=question, sql=sql, datasets=datasets)
        self.items.append(q)
        return q

    def ask(self, question: str) -> tuple[Query, DataAnswer]:
        """A question to the question engine; anything but an answer is an error naming it."""
        answer = ask(question, role=self.role, department=self.department)
        if answer.status != "answered" or answer.sql is None:
            raise Problem(403 if answer.status == "refused" else 502, "数据中枢未能回答 The data hub did not answer",
                          f"“{question}”：{answer.reason or answer.answer}", "data-hub-unanswered")
        return self._add(question, answer.sql, answer.datasets), answer

    def grouped(self, question: str) -> tuple[Query, dict[str, Any]]:
        """A by-group question's rows as {group: value}."""
        query, answer = self.ask(question)
        return query, {str(r[0]): r[-1] for r in answer.rows}

    def rows(self, sql: str, datasets: list[str]) -> tuple[Query, list[dict[str, Any]]]:
        """Rows through the data hub's checked reader."""
        try:
            ran, columns, rows = run_sql(sql, role=self.role, department=self.department)
        except sqlcheck.SqlRefused as exc:
            raise Problem(403, "无权读取 Not allowed", exc.reason, "data-not-allowed") from exc
        return self._add(None, ran, datasets), [dict(zip(columns, r, strict=True)) for r in rows]
