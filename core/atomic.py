"""Write a file so that a reader (or a crash) sees the old content or the new, never half of it.

The new content goes to a temp file beside the target (`.<name>.<random>.tmp`, same directory so
`os.replace` is a rename on one filesystem), is flushed to disk, then renamed over the target. On
any error, including KeyboardInterrupt, the temp file is removed and the target is untouched.
A kill -9 can leave a `.…tmp` file behind; it is never read as data.

Stages with their own kill-point choreography (ingest landing, publish, the audit log) keep their
own code; everything else that writes a small file atomically uses this.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temp path to write; on success it is fsynced and renamed to `path`.

    `mode` sets the file's permissions (e.g. 0o600 for secrets); by default the process umask
    applies, as for any ordinary file (mkstemp alone would make it 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        os.chmod(tmp, mode)
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str, *, mode: int | None = None, encoding: str = "utf-8") -> Path:
    """`path.write_text(text)`, atomically."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def fsync_dir(directory: str | Path) -> None:
    """Make a rename inside `directory` durable (the directory entry itself is flushed)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
