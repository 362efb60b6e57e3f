"""Writing files so that a crash or an error never leaves a half-written or truncated file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.errors import InputError


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Replace `path` with `data` in one step; keeps an existing file's permissions.

    Errors (missing parent that cannot be made, a directory in the way, no permission) become
    one-line InputErrors naming the path, raised before anything is replaced.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600 files; outputs should look like any other file
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: str | Path) -> None:
    """Fail early (before hours of work) when `path` cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {path}: no permission to write in {parent}")


def check_output(path: str | Path, inputs: tuple[str | Path | None, ...] = ()) -> None:
    """Refuse, in one line and before any work, an output file that would lose the user's data
    or land somewhere they did not mean: one of the inputs (by real path or the same inode, so a
    symlink or a hard link counts), a read-only file, a directory, or a file in a directory that
    does not exist (a typo there must not silently create a tree)."""
    import stat

    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    for source in inputs:
        if source is not None and str(source) != "-" and same_file(path, Path(source)):
            raise InputError(f"refusing to write {path}: it is also an input file ({source}); write the output somewhere else")
    parent = path.parent
    if not parent.exists():
        raise InputError(f"cannot write {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: {parent} is not a directory")
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # An atomic write replaces the path: /dev/null or a FIFO would be swapped for a file.
        raise InputError(f"refusing to write {path}: not a regular file (leave out -o to write to stdout)")
    # No write bit at all is read-only even for root (for whom os.access always says yes).
    if st is not None and (not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)):
        raise InputError(f"refusing to write {path}: the file is read-only")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: no permission to write in {parent}")


def same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` are one file: the same real path, or the same inode (hard link)."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
