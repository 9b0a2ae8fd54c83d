"""The benchmark keeps running (its figures are read by people, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_prints_figures_for_every_format():
    out = subprocess.run([sys.executable, "-m", "benchmarks.parse", "--repeat", "1", "--docs", "2", "--json"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rows = {r["format"] for r in data["rows"] if r["label"] == "generated"}
    assert rows == {"txt", "docx", "pdf", "doc"}
    for r in data["rows"]:
        assert r["floor_ms"] > 0 and r["parse_check_ms"] > 0 and r["ratio"] > 0
        assert r["verdicts"].get("rejected", 0) == 0 or r["label"] != "generated"


def test_batch_benchmark_prints_speed_and_memory_of_the_whole_tree():
    out = subprocess.run([sys.executable, "-m", "benchmarks.batch", "--reports", "30", "--jobs", "2",
                          "--doc-every", "15", "--json"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["reports"] == 30 and sum(d["formats"].values()) == 30
    assert set(d["formats"]) == {"txt", "docx", "pdf", "doc"}
    assert sum(d["verdicts"].values()) == 30 and d["verdicts"].get("rejected", 0) > 0  # the flawed bases
    assert d["unread"] == {} and d["copies_unlike_their_base"] == 0
    assert d["check_s"] > 0 and d["reports_per_s"] > 0
    m = d["memory"]
    assert len(m["workers_peak_mib"]) == 2 and all(x > 0 for x in m["workers_peak_mib"])
    assert len(m["reader_helpers_peak_mib"]) == 2  # one fork server per worker, counted in the tree
    assert m["tree_peak_rss_mib"] > m["parent_peak_mib"] > 0
    assert m["libreoffice_largest_mib"] > 0  # the .doc conversions were seen
    assert {"seconds", "mib", "time_met", "memory_met"} <= set(d["targets"])


def test_status_benchmark_runs_and_status_reads_a_fixed_number_of_statements():
    out = subprocess.run([sys.executable, "-m", "benchmarks.status", "--bodies", "10", "40", "--versions", "2",
                          "--repeat", "1", "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    measures = {r["measure"] for r in data["rows"]}
    assert {"status (service)", "nianbao status --json", "cycle table (service)"} <= measures
    assert all(r["ms"] > 0 for r in data["rows"]) and {r["bodies"] for r in data["rows"]} == {10, 40}
    # the statement count is exact, not a timing: one that grows with the bodies is an N+1
    assert {k: v["statements_grow"] for k, v in data["summary"].items() if v["statements_grow"] is not None} == {
        m: False for m in measures if "process" not in m}


def test_intake_benchmark_runs_the_flows_on_one_core_and_on_all():
    out = subprocess.run([sys.executable, "-m", "benchmarks.intake", "--reports", "9", "--servers", "ephemeral",
                          "--json"], capture_output=True, text=True, timeout=400, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["floor_s"] > 0 and [r["jobs"] > 1 for r in d["rows"]] == [False, True]
    for r in d["rows"]:  # each run took every file, and the two runs recorded the same
        assert r["new"] == r["submissions"] == 9 and r["ratio"] > 0
    assert d["rows"][0]["verdicts"] == d["rows"][1]["verdicts"] and d["rows"][0]["notices"] == d["rows"][1]["notices"]
