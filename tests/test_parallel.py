"""Checking on all cores (issue 12): `check_files` and `nianbao check DIR --jobs N` give exactly
what one process gives, in the same order, for good, flawed and unreadable files alike."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nianbao.check import check_files
from nianbao.corpus import good_report
from nianbao.generate import write_docx, write_txt
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("many")
    for i in range(18):
        spec = good_report(i).spec
        if i % 3 == 0:
            spec.table3["new"][-1] += 5  # a flaw: the total no longer adds up
        (write_docx if i % 2 else write_txt)(spec, d / f"r{i:02}.{'docx' if i % 2 else 'txt'}")
    (d / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (d / "empty.pdf").write_bytes(b"")
    return d


def _json(results):
    return [r.to_json() for r in results]


def test_all_cores_give_what_one_gives_in_the_same_order(folder):
    files = sorted(folder.iterdir())
    one = check_files(files, jobs=1, year=2024)
    seen = []
    many = check_files(files, jobs=2, year=2024, progress=seen.append)
    assert [r.path for r in many] == [str(f) for f in files]
    assert _json(many) == _json(one)
    assert sum(seen) == len(files)
    light = check_files(files, jobs=2, year=2024, light=True)  # a big batch's: no parsed documents held
    assert _json(light) == _json(one) and all(r.parsed is None for r in light)
    verdicts = {r.verdict for r in one}
    assert verdicts == {"accepted", "rejected"}
    by_name = {r.path.rsplit("/", 1)[1]: r for r in many}
    assert [f.rule for f in by_name["broken.docx"].findings] == ["file.unreadable"]
    assert [f.rule for f in by_name["empty.pdf"].findings] == ["file.unreadable"]


def test_nianbao_check_dir_with_jobs_prints_the_same_json(folder):
    def run(*jobs: str) -> list:
        r = subprocess.run([sys.executable, "-m", "cli", "check", str(folder), "--year", "2024", "--json", *jobs],
                           capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert r.returncode in (0, 1), r.stderr
        return json.loads(r.stdout)

    assert run("--jobs", "2") == run("--jobs", "1")


def test_read_ahead_reads_each_file_in_order_as_one_read_would(folder, tmp_path):
    """What intake uses: each file read on another process, yielded in order with the hash of
    the bytes read; a file gone meanwhile is left to the caller (None), never mistaken."""
    import hashlib
    import shutil

    from nianbao.check import check_file, read_ahead

    files = sorted(folder.iterdir())
    gone = tmp_path / "gone.txt"
    shutil.copy(files[1], gone)
    paths = [*files[:5], gone, *files[5:]]
    ahead = read_ahead(paths, jobs=2)
    first = next(ahead)
    gone.unlink()  # while the others are being read: some read already, or not yet
    pre = [first, *ahead]
    assert len(pre) == len(paths)
    for p, r in zip(paths, pre, strict=True):
        if p == gone:
            continue
        assert r is not None and r.fits(hashlib.sha256(p.read_bytes()).hexdigest(), p)
        assert not r.fits(hashlib.sha256(b"other").hexdigest(), p) and not r.fits(r.sha256, p.with_suffix(".rtf"))
        assert check_file(p, year=2024, preread=r).to_json() == check_file(p, year=2024).to_json()
    assert [r for r in read_ahead(files[:7], jobs=2)] == [None] * 7  # too few to start processes for
