"""Submitted files, stored by content: files/<first two hex>/<sha256><extension> under
NIANBAO_DATA_DIR. The same bytes are stored once; nothing is ever overwritten or deleted."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    relpath: str  # relative to the data directory
    original_name: str

    def path(self, data_dir: Path) -> Path:
        return data_dir / self.relpath


def store_file(data_dir: Path, src: Path, original_name: str | None = None) -> StoredFile:
    """Copy `src` into the store (atomically) and return where it is."""
    digest = hashlib.sha256()
    size = 0
    with src.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    sha = digest.hexdigest()
    name = original_name or src.name
    ext = Path(name).suffix.lower()[:10]
    rel = Path("files") / sha[:2] / f"{sha}{ext}"
    dest = data_dir / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, dest)  # two writers of the same bytes: either rename wins, same content
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return StoredFile(sha, size, rel.as_posix(), name)
