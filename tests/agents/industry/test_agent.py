"""The industry agent through the super assistant (officials of commerce get tables, charts and the
data hub's SQL; the public gets the staff-only statement) and `aicity industry` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aicity.agents.industry.cli import app
from aicity.assistant.service import assistant
from aicity.hub.data.ask import ask
from aicity.identity.models import Role
from aicity.identity.service import Principal

OFFICIAL = Principal(role=Role.official, department="commerce")


def test_the_three_questions_through_the_assistant(city: Path) -> None:
    weak = assistant().ask("光谷区新能源汽车哪些环节薄弱", OFFICIAL)
    assert [(s.agent, s.skill) for s in weak.skills] == [("industry", "chain_gaps")], weak.answer
    assert "锂矿及锂盐" in weak.answer and "光谷区" in weak.answer and "SELECT" in weak.answer
    hub = ask("光谷区新能源汽车各环节企业数", role="official", department="commerce")
    assert f"| 中游 | 智能座舱与汽车电子 | {dict(hub.rows)['智能座舱与汽车电子']} |" in weak.answer
    found = assistant().ask("找几家适合来投资的动力电池企业", OFFICIAL)
    assert [(s.agent, s.skill) for s in found.skills] == [("industry", "investment_leads")], found.answer
    assert "动力电池" in found.answer and "补链契合" in found.answer and "| 1 |" in found.answer
    spread = assistant().ask("全市专精特新企业分布", OFFICIAL)
    assert [(s.agent, s.skill) for s in spread.skills] == [("industry", "industry_stats")], spread.answer
    by_district = ask("专精特新企业按区分布", role="official", department="commerce")
    assert all(f"| {d} | {n} |" in spread.answer for d, n in by_district.rows)


def test_the_public_gets_the_scope_statement(city: Path) -> None:
    for role in (Role.citizen, Role.enterprise):
        result = assistant().ask("找几家适合来投资的动力电池企业", Principal(role=role))
        assert result.skills == [] and "工作人员" in result.answer and "得分" not in result.answer


def test_cli_chain_leads_and_bad_input(city: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["leads", "新能源汽车", "--node", "动力电池", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["leads"][0]["components"]
    bad = runner.invoke(app, ["chain", "造船"])
    assert bad.exit_code == 2 and "造船" in bad.output
    target = tmp_path / "r.md"
    done = runner.invoke(app, ["report", "生物医药", "--format", "md", "--out", str(target), "--json"])
    assert done.exit_code == 0 and target.read_text().startswith("# 生物医药产业链报告")
    refused = runner.invoke(app, ["report", "造船", "--format", "md", "--out", str(tmp_path / "x.md")])
    assert refused.exit_code == 2 and not (tmp_path / "x.md").exists() and not (tmp_path / "x.md.part").exists()
    made = json.loads(runner.invoke(app, ["projects", "create", "--company", "某公司", "--chain", "集成电路",
                                          "--owner", "陈", "--json"]).output)
    moved = runner.invoke(app, ["projects", "move", made["id"], "移交"])
    assert moved.exit_code == 2 and "立项" in moved.output
