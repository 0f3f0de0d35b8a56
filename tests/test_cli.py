"""The `aicity` command as a user runs it: a real process on a fresh data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port

AICITY = [sys.executable, "-m", "aicity.cli"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-city")


def run(args: list[str], data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "AICITY_DATA_DIR": str(data_dir), "COLUMNS": "120"}
    return subprocess.run([*AICITY, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_ask_json_on_a_fresh_data_dir(data_dir: Path) -> None:
    out = run(["ask", "食品安全法第三十五条怎么规定的", "--json"], data_dir)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert {"answer", "skills", "departments", "citations", "event", "trace_id"} <= set(body)
    assert body["citations"][0]["doc"] == "中华人民共和国食品安全法"
    assert (data_dir / "aicity.db").is_file()


def test_ask_batch_keeps_order_and_reports_bad_lines(data_dir: Path) -> None:
    lines = "\n".join([
        json.dumps({"q": "公积金怎么提取"}),
        "this is not json",
        json.dumps({"q": ""}),
        json.dumps({"q": "开店", "role": "mayor"}),
        json.dumps({"text": "wrong field"}),
        json.dumps({"q": "食品安全法第三十五条", "role": "enterprise"}),
    ])
    out = run(["ask", "--batch", "-"], data_dir, stdin=lines)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 6
    assert rows[0]["answer"] and rows[5]["citations"]
    assert rows[1]["line"] == 2 and "JSON" in rows[1]["error"]
    assert rows[2]["type"] == "empty-text"
    assert rows[3]["type"] == "unknown-role"
    assert '"q"' in rows[4]["error"]


def test_ask_errors_are_clear(data_dir: Path) -> None:
    empty = run(["ask", "  ", "--json"], data_dir)
    assert empty.returncode == 2 and "空" in empty.stderr
    role = run(["ask", "开店", "--role", "mayor"], data_dir)
    assert role.returncode == 2 and "unknown role" in role.stderr
    long = run(["ask", "开" * 8001], data_dir)
    assert long.returncode == 2 and "8000" in long.stderr
    missing = run(["ask", "--batch", "/nonexistent.jsonl"], data_dir)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_kb_search_json_and_batch(data_dir: Path) -> None:
    out = run(["kb", "search", "仅销售预包装食品 备案", "--json", "--top-k", "3"], data_dir)
    hits = json.loads(out.stdout)["hits"]
    assert len(hits) == 3 and {"doc", "locator", "score", "text"} <= set(hits[0])
    batch = run(["kb", "search", "--batch", "-"], data_dir, stdin='{"q": "燃气"}\n[1]\n{"q": "噪声"}\n')
    rows = [json.loads(line) for line in batch.stdout.splitlines()]
    assert rows[0]["hits"] and "error" in rows[1] and rows[2]["hits"]


def test_keys_and_agents_commands(data_dir: Path) -> None:
    created = json.loads(run(["keys", "create", "--name", "ops", "--role", "operator", "--json"], data_dir).stdout)
    assert created["key"].startswith("aic_")
    listed = run(["keys", "list", "--json"], data_dir)
    assert created["key"] not in listed.stdout and created["id"] in listed.stdout
    bad = run(["keys", "create", "--name", "x", "--role", "king"], data_dir)
    assert bad.returncode == 2
    agents = json.loads(run(["agents", "--json"], data_dir).stdout)["agents"]
    assert {"gov_service", "policy", "city_ops", "fire_safety"} <= {a["id"] for a in agents}


def test_convenience_store_through_the_cli(data_dir: Path) -> None:
    first = json.loads(run(["ask", "我想在自家小区楼下开个小便利店，需要办哪些手续？", "--json"], data_dir).stdout)
    assert first["clarification"] and first["skills"][0]["skill"] == "bundle"
    out = run(["ask", "只卖预包装食品，不卖烟", "--session", first["session_id"], "--json"], data_dir)
    assert out.returncode == 0
    second = json.loads(out.stdout)
    assert second["session_id"] == first["session_id"] and second["clarification"] is None
    assert "**仅销售预包装食品备案**" in second["answer"] and "**烟草专卖零售许可证新办**" not in second["answer"]
    assert "market" in second["departments"] and "tobacco" not in second["departments"]
    rendered = run(["ask", "我要开个便利店，只卖包装好的零食，不卖烟，要办哪些手续"], data_dir)
    assert rendered.returncode == 0 and "办理步骤" in rendered.stdout  # the Markdown view for people


def test_eval_assistant_scores_a_labelled_set(data_dir: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        {"q": "食品安全法第三十五条怎么规定的", "skills": ["policy.legal_qa"], "departments": []},
        {"q": "路灯坏了归哪个部门管", "skills": ["city_ops.department_duty"], "departments": ["urban"], "target": "urban"},
        {"q": "食品安全法第三十五条怎么规定的", "skills": ["gov_service.guide"], "departments": ["tax"]},
    ]), encoding="utf-8")
    modes = tmp_path / "modes.jsonl"
    modes.write_text(json.dumps({"q": "路灯坏了归哪个部门管", "role": "citizen", "mode": "report", "skills": [],
                                 "departments": []}, ensure_ascii=False), encoding="utf-8")
    out = run(["eval", "assistant", "--cases", str(cases), "--modes-cases", str(modes), "--no-cv", "--json"],
              data_dir)
    report = json.loads(out.stdout)
    assert report["cases"] == 3 and report["accuracy"] == round(2 / 3, 4)
    assert report["cross_validated"] is None and report["modes"]["cases"] == 1
    misses = report["modes"]["end_to_end_misses"]  # the one labelled request expects no skill: it misses
    assert report["modes"]["end_to_end_accuracy"] == 0.0 and sum(sum(c.values()) for c in misses.values()) == 1
    assert set(misses) == {"report"} and set(misses["report"]) <= {"mode", "skills", "target", "departments"}
    assert [f["q"] for f in report["failures"]] == ["食品安全法第三十五条怎么规定的"]
    assert report["confusion"] == [{"expected": "gov_service.guide", "got": "policy.legal_qa", "count": 1}]
    assert report["by_skill"]["gov_service.guide"] == 0.0 and report["by_skill"]["policy.legal_qa"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "x", "skills": []}\nnot json\n', encoding="utf-8")
    broken = run(["eval", "assistant", "--cases", str(bad)], data_dir)
    assert broken.returncode == 2 and "bad.jsonl:2" in broken.stderr


def test_serve_starts_the_city_and_answers(tmp_path: Path) -> None:
    """The Quickstart's main command on an empty data dir: API and console over real HTTP."""
    port = free_port()
    proc = subprocess.Popen([*AICITY, "serve", "--port", str(port), "--data-dir", str(tmp_path / "city")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.1)
        health = httpx.get(f"{base}/api/v1/health").json()
        assert health["knowledge"]["documents"] == 94
        assert "城市超级助理" in httpx.get(base + "/").text
        answer = httpx.post(f"{base}/api/v1/assistant/ask", json={"text": "公积金怎么提取"}, timeout=30).json()
        assert "hpf" in answer["departments"]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "aicity"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_kb_ingest_ask_list_delete(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "停车.md").write_text("# 停车收费办法\n\n## 收费标准\n\n路内停车首小时免费，之后每小时三元。\n", encoding="utf-8")
    (folder / "坏文件.docx").write_bytes(b"not a docx")
    (folder / "说明.exe").write_bytes(b"MZ")  # not a supported type: skipped when ingesting a folder
    assert run(["kb", "create", "urban_docs", "--name", "城管库", "--level", "department", "--department", "urban"],
               data_dir).returncode == 0
    bad_kb = run(["kb", "create", "x_docs", "--name", "x", "--level", "department", "--department", "nowhere"], data_dir)
    assert bad_kb.returncode == 2 and "nowhere" in bad_kb.stderr
    out = run(["kb", "ingest", str(folder), "--kb", "urban_docs", "--json"], data_dir)
    results = {Path(r["file"]).name: r for r in json.loads(out.stdout)["results"]}
    assert out.returncode == 1  # one file failed, the others went in
    assert results["停车.md"]["status"] == "ingested" and results["坏文件.docx"]["status"] == "error"
    assert "说明.exe" not in results
    again = json.loads(run(["kb", "ingest", str(folder / "停车.md"), "--kb", "urban_docs", "--json"], data_dir).stdout)
    assert again["results"][0]["status"] == "unchanged"
    answer = json.loads(run(["kb", "ask", "路内停车怎么收费", "--kb", "urban_docs", "--json"], data_dir).stdout)
    assert "每小时三元" in answer["citations"][0]["text"] and "[^1]" in answer["answer"]
    listed = json.loads(run(["kb", "list", "--kb", "urban_docs", "--json"], data_dir).stdout)["documents"]
    assert [d["key"] for d in listed] == ["停车收费办法"]
    assert run(["kb", "delete", "停车收费办法", "--kb", "urban_docs"], data_dir).returncode == 0
    gone = run(["kb", "delete", "停车收费办法", "--kb", "urban_docs"], data_dir)
    assert gone.returncode == 2 and "停车收费办法" in gone.stderr


def test_gateway_commands(data_dir: Path, tmp_path: Path) -> None:
    from tests.support.upstream import RunningUpstream

    health = run(["gateway", "health", "--json"], data_dir)
    assert health.returncode == 0, health.stderr
    assert [g["name"] for g in json.loads(health.stdout)["groups"]] == ["embed"]
    missing = run(["gateway", "chat", "你好"], data_dir)
    assert missing.returncode == 2 and "chat-large" in missing.stderr

    upstream = RunningUpstream("cli", free_port())
    try:
        config = tmp_path / "aicity.toml"
        config.write_text(f'[aicity.gateway]\n[[aicity.gateway.deployments]]\nname = "local"\ngroup = "chat-large"\n'
                          f'base_url = "{upstream.url}"\nmodel = "qwen"\n', encoding="utf-8")
        env_run = ["env", f"AICITY_CONFIG={config}"]
        out = subprocess.run([*env_run, *AICITY, "gateway", "chat", "你好", "--json"], capture_output=True, text=True,
                             env={**os.environ, "AICITY_DATA_DIR": str(data_dir)}, timeout=120)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["choices"][0]["message"]["content"] == "[cli] 你好"
    finally:
        upstream.stop()

    created = run(["gateway", "keys", "create", "--name", "工单", "--owner", "citymgmt", "--rpm", "5", "--json"],
                  data_dir)
    key = json.loads(created.stdout)
    assert key["key"].startswith("gk_") and key["rpm"] == 5
    listed = json.loads(run(["gateway", "keys", "list", "--json"], data_dir).stdout)["keys"]
    assert any(k["id"] == key["id"] and "key" not in k for k in listed)
    assert run(["gateway", "keys", "revoke", key["id"]], data_dir).returncode == 0
    bad = run(["gateway", "keys", "create", "--name", "x", "--owner", "o", "--group", "nope"], data_dir)
    assert bad.returncode == 2 and "nope" in bad.stderr
    usage = json.loads(run(["gateway", "usage", "--json"], data_dir).stdout)["rows"]
    assert any(r["agent"] == "cli" and r["deployment"] == "local" and r["requests"] == 1 for r in usage)
