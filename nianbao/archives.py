"""Reports that arrive packed: the files a .zip or .7z holds, taken out with limits a bomb cannot pass.

Nothing here writes a member's name as a path: each member comes back as (display name, bytes),
and whoever keeps it names the file itself. The declared sizes are not trusted: every member is
inflated in bounded steps and stops at its limit, whatever its header says. Names are UTF-8 when
the zip says so, else the bytes Windows wrote (GBK in China) that zipfile decoded as cp437; a 7z
stores its names as UTF-16, so they need no guessing. A zip in a 7z (or the other way) is one
level of nesting like a zip in a zip. (.rar is not read: the only full RAR readers are the
non-free unrar, which does not install here.)"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import py7zr
from py7zr.helpers import get_sanitized_output_path
from py7zr.io import Py7zIO, WriterFactory

from nianbao.filenames import display_name

CHUNK = 1 << 16
ARCHIVES = (".zip", ".7z")  # the packed forms opened (and counted as a level of nesting)


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 100  # files and folders in one zip (a county's reports: a few)
    max_member_bytes: int = 30 * 1024 * 1024  # one member, inflated (a report larger is refused anyway)
    max_total_bytes: int = 200 * 1024 * 1024  # everything taken from one zip and the zips inside it
    max_ratio: int = 200  # inflated / compressed, for a member larger than RATIO_FLOOR
    max_depth: int = 2  # archives inside the mail's archive, two deep; a third one inside is not opened
    ratio_floor: int = 1024 * 1024  # small members compress far better than any bomb needs: not judged


@dataclass
class Unpacked:
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (name for people, content)
    problems: list[str] = field(default_factory=list)  # Chinese, for the sender


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's own name (the last part of its path) as people read it."""
    raw = info.filename
    if not info.flag_bits & 0x800:  # not marked UTF-8: zipfile read the bytes as cp437
        try:
            raw = display_name(raw.encode("cp437").decode("utf-8", "surrogateescape"))
        except UnicodeEncodeError:
            pass
    return PurePosixPath(raw.replace("\\", "/")).name


def unpack_zip(data: bytes, wanted: tuple[str, ...], limits: ZipLimits | None = None, label: str = "压缩包",
               _depth: int = 0, _budget: list[int] | None = None) -> Unpacked:
    """The members of a zip whose extension is in `wanted` (and the wanted members of the zips it
    holds, to `max_depth`). A member past a limit is left out and said in `problems`; a zip past
    the member count or not a zip at all gives no files."""
    limits = limits or ZipLimits()
    budget = _budget if _budget is not None else [limits.max_total_bytes]
    out = Unpacked()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError):
        out.problems.append(f"{label}已损坏或不是 zip 格式，无法解压。")
        return out
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            out.problems.append(f"{label}内有{len(infos)}个文件，超过上限{limits.max_members}个，未解压。"
                                "请只压缩年度报告文件，或直接以附件发送。")
            return out
        for info in infos:
            if info.is_dir():
                continue
            name = member_name(info)
            ext = PurePosixPath(name.lower()).suffix
            if ext not in ARCHIVES and ext not in wanted:
                continue
            if info.flag_bits & 0x1:
                out.problems.append(f"{label}中的《{name}》设置了密码，无法解压。请取消密码后重新发送。")
                continue
            if ext in ARCHIVES and _depth + 1 > limits.max_depth:
                out.problems.append(f"{label}中的《{name}》是多层嵌套的压缩包，未解压。请直接发送报告文件。")
                continue
            content, why = _inflate(zf, info, limits, budget)
            if content is None:
                out.problems.append(f"{label}中的《{name}》{why}，未解压。")
                continue
            _take(out, name, ext, content, wanted, limits, label, _depth, budget)
    return out


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits,
             budget: list[int]) -> tuple[bytes | None, str]:
    """The member's bytes, read in steps and stopped at the first limit it passes."""
    cap = min(limits.max_member_bytes, budget[0])
    if info.file_size > cap:  # declared too large: not even started
        return None, "解压后过大"
    buf = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                buf.write(chunk)
                size = buf.tell()
                if size > cap:
                    return None, "解压后过大"
                if size > limits.ratio_floor and size > limits.max_ratio * max(info.compress_size, 1):
                    return None, "压缩比异常（疑似压缩炸弹）"
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return None, "已损坏或使用了不支持的压缩方式"
    budget[0] -= buf.tell()
    return buf.getvalue(), ""


def unpack(data: bytes, ext: str, wanted: tuple[str, ...], limits: ZipLimits | None = None, label: str = "压缩包",
           _depth: int = 0, _budget: list[int] | None = None) -> Unpacked:
    """The wanted members of a packed file, by its extension (one of ARCHIVES)."""
    if ext.lower() == ".7z":
        return unpack_7z(data, wanted, limits, label, _depth, _budget)
    return unpack_zip(data, wanted, limits, label, _depth, _budget)


def _take(out: Unpacked, name: str, ext: str, content: bytes, wanted: tuple[str, ...], limits: ZipLimits,
          label: str, depth: int, budget: list[int]) -> None:
    """One member unpacked from a zip or a 7z: a file kept, or an archive opened one level down."""
    if ext in ARCHIVES:
        inner = unpack(content, ext, wanted, limits, f"{label}中的《{name}》", depth + 1, budget)
        out.files += inner.files
        out.problems += inner.problems
    else:
        out.files.append((name, content))


class _Refused(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Member(Py7zIO):
    """One member in memory; refuses (raising out of py7zr's extract) at the first limit passed."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.buf = io.BytesIO()

    def write(self, s: bytes | bytearray) -> int:
        sink = self.sink
        if self.size() + len(s) > sink.member_cap or sink.written + len(s) > sink.total_cap:
            raise _Refused("解压后过大")
        sink.written += len(s)
        if sink.written > sink.limits.ratio_floor and sink.written > sink.limits.max_ratio * sink.packed:
            raise _Refused("压缩比异常（疑似压缩炸弹）")
        return self.buf.write(s)

    def read(self, size: int | None = None) -> bytes:
        return self.buf.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.buf.seek(offset, whence)

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.buf.getbuffer().nbytes


class _Sink(WriterFactory):
    """Where py7zr's extract writes: memory, never a path; bounded for all members together."""

    def __init__(self, limits: ZipLimits, total_cap: int, packed: int) -> None:
        self.limits = limits
        self.member_cap = min(limits.max_member_bytes, total_cap)
        self.total_cap = total_cap
        self.packed = max(packed, 1)
        self.written = 0
        self.members: list[tuple[str, _Member]] = []

    def create(self, filename: str) -> Py7zIO:
        member = _Member(self)
        self.members.append((filename, member))
        return member


def _name_7z(raw: str) -> str:
    return display_name(PurePosixPath(raw.replace("\\", "/")).name)


def unpack_7z(data: bytes, wanted: tuple[str, ...], limits: ZipLimits | None = None, label: str = "压缩包",
              _depth: int = 0, _budget: list[int] | None = None) -> Unpacked:
    """As unpack_zip, for a 7z. The declared sizes are judged before anything is inflated; then
    py7zr inflates into memory writers that stop at the same limits (a header that lies gets no
    further), and its max_extract_size bounds even the members a solid block inflates on the way."""
    limits = limits or ZipLimits()
    budget = _budget if _budget is not None else [limits.max_total_bytes]
    out = Unpacked()
    # py7zr raises many kinds on a damaged archive (Bad7zFile, CrcError, lzma/zlib errors, even
    # TypeError or IndexError from the header parser): all of them mean "cannot be read" here
    try:
        with py7zr.SevenZipFile(io.BytesIO(data), "r", max_extract_size=budget[0]) as zf:
            infos = zf.list()
            if len(infos) > limits.max_members:
                out.problems.append(f"{label}内有{len(infos)}个文件，超过上限{limits.max_members}个，未解压。"
                                    "请只压缩年度报告文件，或直接以附件发送。")
                return out
            chosen: set[str] = set()
            declared = 0
            for info in infos:
                if info.is_directory or info.is_symlink:
                    continue
                name = _name_7z(info.filename)
                ext = PurePosixPath(name.lower()).suffix
                if ext not in ARCHIVES and ext not in wanted:
                    continue
                if ext in ARCHIVES and _depth + 1 > limits.max_depth:
                    out.problems.append(f"{label}中的《{name}》是多层嵌套的压缩包，未解压。请直接发送报告文件。")
                    continue
                try:  # py7zr refuses such a name (../, /, C:) and would stop the whole extract on it
                    get_sanitized_output_path(info.filename, None)
                except py7zr.Bad7zFile:
                    out.problems.append(f"{label}中的《{name}》的路径异常，未解压。")
                    continue
                if info.uncompressed > min(limits.max_member_bytes, budget[0] - declared):
                    out.problems.append(f"{label}中的《{name}》解压后过大，未解压。")
                    continue
                declared += info.uncompressed
                chosen.add(info.filename)
            if not chosen:
                return out
            if declared > limits.ratio_floor and declared > limits.max_ratio * max(len(data), 1):
                out.problems.append(f"{label}压缩比异常（疑似压缩炸弹），未解压。")
                return out
            # py7zr names the factory's writers by the member's path and suffixes a repeated one
            keys: dict[str, str] = {}
            seen: dict[str, int] = {}
            for info in infos:
                if info.filename in chosen and not info.is_directory:
                    n = seen.get(info.filename)
                    seen[info.filename] = 0 if n is None else n + 1
                    key = info.filename if n is None else f"{info.filename}_{n}"
                    keys[get_sanitized_output_path(key, None).as_posix()] = info.filename
            sink = _Sink(limits, budget[0], len(data))
            zf.extract(targets=sorted(chosen), factory=sink)
    except _Refused as refused:
        out.problems.append(f"{label}{refused.why}，未解压。")
        return out
    except py7zr.PasswordRequired:
        out.problems.append(f"{label}设置了密码，无法打开。请取消密码后重新发送，或直接发送报告文件。")
        return out
    except py7zr.DecompressionBombError:
        out.problems.append(f"{label}解压后过大（疑似压缩炸弹），未解压。")
        return out
    except Exception:
        out.problems.append(f"{label}已损坏或不是 7z 格式，无法解压。")
        return out
    budget[0] -= sink.written
    for key, member in sink.members:
        name = _name_7z(keys.get(key, key))
        ext = PurePosixPath(name.lower()).suffix
        _take(out, name, ext, member.buf.getvalue(), wanted, limits, label, _depth, budget)
    return out
