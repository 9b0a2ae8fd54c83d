"""Reports packed in a .7z (py7zr), under the same limits as a .zip: the report comes out, a bomb,
too many members, a password, a broken file, a name that climbs out, a header that lies — each
a Chinese problem line, never an exception, never more memory than the limits."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import py7zr
import pytest

from nianbao.archives import ZipLimits, unpack, unpack_7z
from nianbao.generate import ReportSpec, write_docx

WANTED = (".docx", ".pdf", ".txt")


def seven(members: dict[str, bytes], password: str | None = None) -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password, header_encryption=bool(password)) as z:
        for name, content in members.items():
            z.writestr(content, name)
    return buf.getvalue()


@pytest.fixture(scope="module")
def docx(tmp_path_factory) -> bytes:
    return write_docx(ReportSpec(), tmp_path_factory.mktemp("a") / "r.docx").read_bytes()


def test_the_report_in_a_7z_comes_out_with_its_chinese_name(docx):
    got = unpack(seven({"年报/官亭镇2024年度报告.docx": docx, "说明.jpg": b"\xff\xd8 no"}), ".7z", WANTED)
    assert got.files == [("官亭镇2024年度报告.docx", docx)] and got.problems == []


def test_a_7z_bomb_is_refused_before_it_is_inflated():
    bomb = seven({"bomb.docx": b"\0" * (300 << 20)})
    assert len(bomb) < 1 << 20
    tracemalloc.start()
    try:
        got = unpack(bomb, ".7z", WANTED)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.files == [] and "解压后过大" in got.problems[0]
    assert peak < 40 << 20  # nothing near the 300 MB it claims
    ratio = seven({"zeros.docx": b"\0" * (20 << 20)})  # under the member limit, but 20 MB from a few KB
    got = unpack(ratio, ".7z", WANTED)
    assert got.files == [] and "压缩炸弹" in got.problems[0]


def test_a_header_that_lies_gets_no_further_than_the_limits(monkeypatch):
    """The declared sizes are only the first check: the writers stop at the limit whatever the
    header said (here the header is made to understate every member)."""
    data = seven({"big.docx": b"\0" * (8 << 20)})
    real = py7zr.SevenZipFile.list

    def lying(self):
        infos = real(self)
        for i in infos:
            i.uncompressed = 100
        return infos

    monkeypatch.setattr(py7zr.SevenZipFile, "list", lying)
    got = unpack_7z(data, WANTED, ZipLimits(max_member_bytes=1 << 20, max_ratio=10_000))
    assert got.files == [] and got.problems == ["压缩包解压后过大，未解压。"]  # the writer's own refusal


def test_too_many_members_a_password_and_broken_bytes_are_problems_not_exceptions(docx):
    many = seven({f"{i}.txt": b"x" for i in range(101)})
    assert "超过上限100个" in unpack(many, ".7z", WANTED).problems[0]
    locked = seven({"r.docx": docx}, password="1234")
    got = unpack(locked, ".7z", WANTED)
    assert got.files == [] and "密码" in got.problems[0]
    good = seven({"r.docx": docx})
    for broken in (b"7z\xbc\xaf\x27\x1c" + b"\0" * 40, good[: len(good) // 2], b"not a 7z at all"):
        got = unpack(broken, ".7z", WANTED)
        assert got.files == [] and got.problems and "无法解压" in got.problems[0]


def test_a_name_that_climbs_out_is_never_a_path(docx, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as m:  # py7zr will not write such a name; a hostile tool would
        m.setattr(py7zr.py7zr, "check_archive_path", lambda name: True)
        hostile = seven({"../../evil.docx": docx, "ok/r.docx": docx})
    got = unpack(hostile, ".7z", WANTED)
    assert [n for n, _ in got.files] == ["r.docx"] and "路径异常" in got.problems[0]
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "evil.docx").exists()


def test_a_zip_in_a_7z_and_a_7z_in_a_zip_are_one_level_each(docx):
    inner_zip = io.BytesIO()
    with zipfile.ZipFile(inner_zip, "w") as zf:
        zf.writestr("r.docx", docx)
    got = unpack(seven({"inner.zip": inner_zip.getvalue()}), ".7z", WANTED)
    assert got.files == [("r.docx", docx)]
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("a.7z", seven({"r.docx": docx}))
    assert unpack(outer.getvalue(), ".zip", WANTED).files == [("r.docx", docx)]
    # the mail's archive and two inside it are opened; a third inside is not
    deep = seven({"b.zip": outer.getvalue()})
    assert unpack(deep, ".7z", WANTED).files == [("r.docx", docx)]
    deeper = io.BytesIO()
    with zipfile.ZipFile(deeper, "w") as zf:
        zf.writestr("d.7z", deep)
    got = unpack(deeper.getvalue(), ".zip", WANTED)
    assert got.files == [] and "多层嵌套" in got.problems[0]
