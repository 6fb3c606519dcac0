"""Where a trained file came from: the commit of the code and the hash of the data."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

__all__ = ["file_sha256", "git_commit"]


def git_commit(repo: Path) -> str | None:
    """The checked-out commit of ``repo``, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def file_sha256(path: Path) -> str:
    """SHA-256 hex of a file's bytes (a manifest a model was trained on)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
