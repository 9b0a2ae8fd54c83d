"""Reports that arrive packed: the files a .zip holds, taken out with limits a zip bomb cannot pass.

Nothing here writes a member's name as a path: each member comes back as (display name, bytes),
and whoever keeps it names the file itself. The declared sizes are not trusted: every member is
inflated in bounded steps and stops at its limit, whatever its header says. Names are UTF-8 when
the zip says so, else the bytes Windows wrote (GBK in China) that zipfile decoded as cp437."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from nianbao.filenames import display_name

CHUNK = 1 << 16


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 100  # files and folders in one zip (a county's reports: a few)
    max_member_bytes: int = 30 * 1024 * 1024  # one member, inflated (a report larger is refused anyway)
    max_total_bytes: int = 200 * 1024 * 1024  # everything taken from one zip and the zips inside it
    max_ratio: int = 200  # inflated / compressed, for a member larger than RATIO_FLOOR
    max_depth: int = 2  # a zip inside a zip inside the mail's zip is not opened
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
            if ext != ".zip" and ext not in wanted:
                continue
            if info.flag_bits & 0x1:
                out.problems.append(f"{label}中的《{name}》设置了密码，无法解压。请取消密码后重新发送。")
                continue
            if ext == ".zip" and _depth + 1 > limits.max_depth:
                out.problems.append(f"{label}中的《{name}》是多层嵌套的压缩包，未解压。请直接发送报告文件。")
                continue
            content, why = _inflate(zf, info, limits, budget)
            if content is None:
                out.problems.append(f"{label}中的《{name}》{why}，未解压。")
                continue
            if ext == ".zip":
                inner = unpack_zip(content, wanted, limits, f"{label}中的《{name}》", _depth + 1, budget)
                out.files += inner.files
                out.problems += inner.problems
            else:
                out.files.append((name, content))
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
