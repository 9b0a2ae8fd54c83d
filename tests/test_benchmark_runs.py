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
    assert rows == {"txt", "docx", "pdf"}
    for r in data["rows"]:
        assert r["floor_ms"] > 0 and r["parse_check_ms"] > 0 and r["ratio"] > 0
        assert r["verdicts"].get("rejected", 0) == 0 or r["label"] != "generated"
