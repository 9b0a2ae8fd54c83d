"""`nianbao demo` — the rehearsal README runs as the main job — from a fresh environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.conftest import ROOT


def test_demo_rehearses_a_whole_cycle(tmp_path):
    sandbox = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIANBAO_"))}
    env["HOME"] = str(tmp_path)  # nothing from a ~/.prefect of the machine
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "cli", "demo", "--dir", str(sandbox)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    print(f"demo took {took:.0f} s")
    assert took < 120

    notices = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((sandbox / "notices").glob("*.json"))]
    assert all(list(n) == ["kind", "to", "subject", "message", "rules"] for n in notices)
    kinds = {n["kind"] for n in notices}
    assert {"kickoff", "reminder", "accepted", "rejected", "digest", "summary"} <= kinds
    rejected = {n["to"]: n for n in notices if n["kind"] == "rejected"}
    assert "template.outdated" in rejected["wanghuzhai"]["rules"]  # the old template
    assert "year.mismatch" in rejected["zhangwangtuan"]["rules"]  # reporting on 2023
    tos = {n["to"] for n in notices}
    assert "wangdian" not in tos and all(t == "county-office" or t.isascii() for t in tos)
    told = [n for n in notices if n["to"] == "county-office" and "identity.unknown_body" in n["rules"]]
    assert told and "王店镇" in told[0]["message"]  # held unassigned, the office told
    assert notices[-1]["kind"] == "summary" and "全县汇总完成" in notices[-1]["subject"]
    summary = sandbox / "summary" / "julu-2024"
    assert {p.suffix for p in summary.iterdir()} == {".docx", ".xlsx", ".json"}
    assert "巨鹿县2024年政府信息公开工作年度报告.docx" in {p.name for p in summary.iterdir()}

    st = subprocess.run([sys.executable, "-m", "cli", "status", "--json", "--dir", str(sandbox)], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=120)
    assert st.returncode == 0, st.stderr
    status = json.loads(st.stdout)
    assert status["cycle"]["state"] == "compiled" and len(status["bodies"]) == 17
    assert all(b["verdict"] == "accepted" for b in status["bodies"])
    assert {b["code"]: b["versions"] for b in status["bodies"]}["wanghuzhai"] == 2
    # one body sent its stamped scan (an image-only PDF): read by OCR, accepted on its first version
    import sqlite3

    with sqlite3.connect(sandbox / "nianbao.db") as db:
        scans = db.execute("SELECT original_name, verdict, version FROM submission WHERE read_as = 'scan'").fetchall()
    assert len(scans) == 1 and "盖章扫描件" in scans[0][0] and scans[0][1:] == ("accepted", 1)
