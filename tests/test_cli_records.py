"""The database commands end to end, as the county office types them (SQLite in --dir)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROSTER, SEEDS, needs_shared

TOKEN = "SECRETTOKEN0123456789abcdef"


def nianbao(*args, data_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args, "--dir", str(data_dir)], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def office(tmp_path):
    """A county office with its roster (one contact carrying a token) and the 2024 cycle open."""
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER.read_text(encoding="utf-8").replace(
        "  - {code: guanting, name: 官亭镇, kind: township}",
        "  - {code: guanting, name: 官亭镇, kind: township, contacts: [{name: 李四, urls: "
        f"['dingtalk://{TOKEN}', 'mailto://clerk:{TOKEN}@smtp.163.com?to=gt@163.com']}}]}}"), encoding="utf-8")
    data = tmp_path / "data"
    assert nianbao("db", "upgrade", data_dir=data).returncode == 0
    r = nianbao("roster", "import", str(roster), data_dir=data)
    assert r.returncode == 0, r.stderr
    late = nianbao("cycle", "open", "--year", "2024", "--deadline", "2025-01-31", data_dir=data)
    assert late.returncode == 2 and "已经过去" in late.stderr and "--confirm-late" in late.stderr  # a slip of the year?
    r = nianbao("cycle", "open", "--year", "2024", "--deadline", "2025-01-31", "--confirm-late", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert "收件目录" in r.stdout and (data / "inbox" / "guanting").is_dir()  # where files go, made for every body
    return data


def test_roster_list_never_shows_a_token(office):
    for args in (("roster", "list"), ("roster", "list", "--json")):
        r = nianbao(*args, data_dir=office)
        assert r.returncode == 0 and TOKEN not in r.stdout + r.stderr
    listed = json.loads(nianbao("roster", "list", "--json", data_dir=office).stdout)
    guanting = next(b for b in listed["bodies"] if b["code"] == "guanting")
    assert guanting["contacts"] == ["李四 dingtalk", "李四 mailto"]


def test_a_bad_roster_is_refused_with_lines_and_nothing_changes(office, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("county: 巨鹿县\ncounty_code: julu\nbodies:\n  - {code: julu, name: 巨鹿镇, kind: township}\n"
                   "  - {code: julu, name: 王虎寨镇, kind: town}\n", encoding="utf-8")
    r = nianbao("roster", "import", str(bad), data_dir=office)
    assert r.returncode == 2
    assert "第5行" in r.stderr and "重复" in r.stderr and "town" in r.stderr
    listed = json.loads(nianbao("roster", "list", "--json", data_dir=office).stdout)
    assert len(listed["bodies"]) == 17 and all(b["active"] for b in listed["bodies"])


@needs_shared
def test_submit_status_and_history(office, tmp_path):
    (gt,) = SEEDS.glob("001_*.txt")
    r = nianbao("submit", str(gt), "--body", "guanting", "--json", data_dir=office)
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert (first["version"], first["verdict"], first["new"]) == (1, "accepted", True)
    again = nianbao("submit", str(gt), "--body", "guanting", "--json", data_dir=office)
    assert json.loads(again.stdout)["new"] is False
    (wd,) = SEEDS.glob("002_*.txt")
    held = nianbao("submit", str(wd), "--json", data_dir=office)
    assert held.returncode == 3 and json.loads(held.stdout)["body"] is None and json.loads(held.stdout)["state"] == "held"
    changed = tmp_path / "官亭镇v2.txt"
    changed.write_text(gt.read_text(encoding="utf-8").replace("六、其他需要报告的事项\n无",
                                                               "六、其他需要报告的事项\n本年度未收取信息处理费。"),
                       encoding="utf-8")
    v2 = json.loads(nianbao("submit", str(changed), "--body", "guanting", "--json", data_dir=office).stdout)
    assert v2["version"] == 2 and any(k.startswith("content.fee_statement|") for k in v2["delta"]["fixed"])
    status = json.loads(nianbao("status", "--json", data_dir=office).stdout)
    assert list(status) == ["cycle", "bodies"]
    assert status["cycle"] == {"county": "巨鹿县", "year": 2024, "deadline": "2025-01-31", "state": "open"}
    gt_row = next(b for b in status["bodies"] if b["code"] == "guanting")
    assert gt_row["versions"] == 2 and gt_row["verdict"] == "accepted"
    assert all(b["verdict"] is None for b in status["bodies"] if b["code"] != "guanting")
    text = nianbao("status", data_dir=office).stdout
    assert "官亭镇" in text and "暂存" in text
    history = nianbao("status", "guanting", data_dir=office).stdout
    assert "第 2 版" in history and "已修正 1 个" in history


def test_commands_before_a_roster_say_what_to_do(tmp_path):
    r = nianbao("status", data_dir=tmp_path / "empty")
    assert r.returncode == 2 and "roster import" in r.stderr and "Traceback" not in r.stderr


def test_import_last_years_report(office, tmp_path):
    from nianbao.generate import ReportSpec, write_txt

    last = write_txt(ReportSpec(year=2023), tmp_path / "2023.txt")
    r = nianbao("import", str(last), "--body", "guanting", "--year", "2023", "--json", data_dir=office)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] == "accepted"
    assert json.loads(nianbao("status", "--json", "--year", "2023", data_dir=office).stdout)["cycle"]["state"] == "closed"


def test_the_database_password_is_never_printed(pg_url, tmp_path):
    import os

    url = pg_url.replace("postgres@", f"postgres:{TOKEN}@")  # trust auth: the password is not checked
    env = {**os.environ, "NIANBAO_DATABASE_URL": url}
    for args in (("db", "upgrade"), ("db", "current"), ("roster", "import", str(ROSTER)), ("status",)):
        r = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env, timeout=300)
        assert TOKEN not in r.stdout + r.stderr, args
    bad = {**env, "NIANBAO_DATABASE_URL": url.replace(url.rsplit(":", 1)[1].split("/")[0], "1")}  # port 1: refused
    r = subprocess.run([sys.executable, "-m", "cli", "status"], capture_output=True, text=True, env=bad, timeout=300)
    assert r.returncode == 2 and TOKEN not in r.stdout + r.stderr and "***" in r.stderr


def test_a_report_handed_in_at_the_counter_is_answered(office, tmp_path):
    """`nianbao submit` routes like intake: the body's notice is queued and sent at once."""
    import os

    from nianbao.generate import ReportSpec, write_txt

    sink = tmp_path / "sink"
    report = write_txt(ReportSpec(body="巨鹿县王虎寨镇人民政府", template="2019"), tmp_path / "r.txt")
    env = {**os.environ, "NIANBAO_NOTICE_SINK": str(sink)}
    r = subprocess.run([sys.executable, "-m", "cli", "submit", str(report), "--body", "wanghuzhai", "--dir",
                        str(office)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1, r.stderr
    (notice,) = [json.loads(p.read_text(encoding="utf-8")) for p in sink.glob("*.json")]
    assert notice["kind"] == "rejected" and notice["to"] == "wanghuzhai" and "template.outdated" in notice["rules"]
