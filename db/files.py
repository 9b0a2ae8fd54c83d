"""Submitted files, stored by content: files/<first two hex>/<sha256><extension> under
NIANBAO_DATA_DIR. The same bytes are stored once; nothing is ever overwritten.

The SHA-256 and size recorded are those of the bytes written to the store, read once: a file
that changes while it is copied is not stored (StoreError) rather than stored under a hash of
other bytes. A failure (a full disk) leaves no temporary file behind."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nianbao.filenames import display_name


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    relpath: str  # relative to the data directory; "" when the bytes were not kept (over the size limit)
    original_name: str
    created: bool = False  # this call wrote the stored copy (a failed record may take it back)

    @property
    def kept(self) -> bool:
        return bool(self.relpath)

    def path(self, data_dir: Path) -> Path:
        return data_dir / self.relpath


class StoreError(Exception):
    """The file could not be stored; `message` says why in Chinese, `transient` when trying
    again later may work (a full disk, a file still being written)."""

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


CHANGED = "文件在保存过程中发生了变化（可能仍在复制或写入），本次未登记。请等文件复制完成后再报送。"
NO_SPACE = "服务器磁盘空间不足，文件未能保存，本次未登记。请联系县政务公开办（系统管理员清理磁盘后重新报送）。"


def _snapshot(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def store_file(data_dir: Path, src: Path, original_name: str | None = None, *, keep_max: int | None = None) -> StoredFile:
    """Copy `src` into the store (atomically, hashing the bytes as they are written) and return
    where it is. A file larger than `keep_max` is hashed but not kept (relpath "")."""
    name = original_name or display_name(src.name)
    ext = Path(name).suffix.lower()[:10]
    try:
        with src.open("rb") as fh:
            before = _snapshot(os.fstat(fh.fileno()))
            if keep_max is not None and before[0] > keep_max:
                return _hash_only(fh, before, name)
            store_dir = data_dir / "files"
            store_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=store_dir, prefix=".incoming-")
            try:
                digest = hashlib.sha256()
                size = 0
                with os.fdopen(fd, "wb") as out:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                if _snapshot(os.fstat(fh.fileno())) != before or size != before[0]:
                    raise StoreError(CHANGED)
                sha = digest.hexdigest()
                rel = Path("files") / sha[:2] / f"{sha}{ext}"
                dest = data_dir / rel
                created = not dest.exists()
                if created:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, dest)  # two writers of the same bytes: either rename wins, same content
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreError(NO_SPACE) from exc
        raise
    return StoredFile(sha, size, rel.as_posix(), name, created)


def _hash_only(fh, before: tuple[int, int, int], name: str) -> StoredFile:
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    if _snapshot(os.fstat(fh.fileno())) != before or size != before[0]:
        raise StoreError(CHANGED)
    return StoredFile(digest.hexdigest(), size, "", name)


def discard(data_dir: Path, stored: StoredFile) -> None:
    """Take back a copy this call stored when its record could not be written (nothing refers
    to it). A copy that was there before belongs to an earlier submission and stays."""
    if stored.created and stored.kept:
        try:
            stored.path(data_dir).unlink()
        except FileNotFoundError:
            pass
