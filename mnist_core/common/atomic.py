"""Write a file (or replace a folder) so that readers see the old one or the whole new one, never half of it."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed over ``path``, on error removed.

    ``suffix`` keeps an extension some writers insist on (``np.savez`` appends ``.npz`` otherwise).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; these are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


_AT_FDCWD = -100  # renameat2's "relative to the working directory"
_RENAME_EXCHANGE = 2  # swap two existing paths in one step (Linux 3.15+)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one rename where the kernel can (Linux); False where it cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    return done == 0


def replace_folder(new: Path | str, target: Path | str) -> None:
    """Put the folder ``new`` where ``target`` is, in one rename, and remove the old ``target``.

    Readers see the old folder or the new one, never a mix of their files. Where the
    kernel cannot swap two folders, the old one is first renamed aside: then, for a
    moment, there is no ``target`` at all, but still never a mix.
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # it holds the old folder's files now
        return
    aside = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    os.rename(target, aside)
    os.rename(new, target)
    shutil.rmtree(aside)
