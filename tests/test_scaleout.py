"""An intake spread over two real Prefect workers on a PostgreSQL-backed server, one worker
killed mid-way (benchmarks/scaleout.py, small), records and answers exactly what one process
does; and the part locks that tell a dead part from one at work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nianbao.settings import Settings
from service import intake_work
from service.env import Env
from service.inbox import InboxFile

ROOT = Path(__file__).resolve().parents[1]


def test_two_workers_one_killed_record_what_one_process_does():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIANBAO_"))}
    out = subprocess.run([sys.executable, "-m", "benchmarks.scaleout", "--reports", "60", "--parts", "2",
                          "--restart", "--json"], capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    two = d["two"]
    assert two["state"] == "COMPLETED"
    assert two["killed"] and 0 < two["killed"]["taken"] < two["killed"]["of"]  # mid-way through its part
    assert two["restarted"]
    assert two["crashed"] and two["rerun"] >= 1  # the dead worker's part, seen and run again
    assert len(two["workers"]) == 2 and all(w["read_parts"] + w["record_parts"] for w in two["workers"].values())
    assert d["equal_submissions"] and d["equal_notices"], d["differences"]
    assert d["submissions"] == d["one"]["new"] == d["files"]
    assert d["lost"] == {"left_in_inbox": 0, "left_in_inbox_one": 0, "missing": 0}
    assert d["doubled"] == {"submissions": 0, "bytes_twice": 0, "notices": 0}
    assert d["similarity"] > 0  # the copied reports were compared across the parts


def _env(tmp_path: Path) -> Env:
    return Env(Settings(data_dir=tmp_path), None, None)  # type: ignore[arg-type]  # no database: locks only


def test_a_part_is_abandoned_only_when_started_unfinished_and_its_lock_free(tmp_path):
    e = _env(tmp_path)
    (tmp_path / intake_work.WORK / "p").mkdir(parents=True)
    assert intake_work.abandoned(e, "p", "record", 0) is None  # never started
    with intake_work.part_lock(e, "p", "record", 0, "run-1") as got:
        assert got
        assert intake_work.abandoned(e, "p", "record", 0) is None  # at work
    assert intake_work.abandoned(e, "p", "record", 0) == "run-1"  # its process is gone, the part not done
    intake_work.forget(e, "run-1", "p", "record", 0)
    assert intake_work.abandoned(e, "p", "record", 0) is None  # cleared for its next run
    with intake_work.part_lock(e, "p", "record", 0, "run-2"):
        intake_work.finish(e, intake_work.PartDone("record", 0, "w", 3, 0.1), "p")
    assert intake_work.abandoned(e, "p", "record", 0) is None  # done
    assert intake_work.finished(e, "p", "record", 0).files == 3


def test_the_intakes_order_puts_each_bodys_folder_first_and_splits_evenly():
    files = [InboxFile("inbox/a.txt", None, "a.txt"), InboxFile("inbox/x/1.txt", "x", "1.txt"),
             InboxFile("inbox/b/1.txt", "b", "1.txt"), InboxFile("inbox/x/2.txt", "x", "2.txt")]
    assert [f.path for f in intake_work.ordered(files)] == ["inbox/b/1.txt", "inbox/x/1.txt", "inbox/x/2.txt",
                                                            "inbox/a.txt"]
    assert intake_work.split(7, 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert intake_work.split(2, 4) == [[0], [1]] and intake_work.split(0, 4) == [[]]
