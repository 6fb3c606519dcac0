"""Where ``kiosk audit`` finds the log and how it opens it: keys are looked for, never
created, and a log the kiosk kept at the path but that is gone is named as such."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kiosk.audit import (
    AuditConfig,
    AuditLog,
    AuditUnavailable,
    KeyUnavailable,
    key_store,
    resolve_db_path,
)
from kiosk.audit.errors import MISSING
from kiosk.audit.register import read_registration
from kiosk.settings import default_data_dir


def db_path(args: argparse.Namespace, ctx: Any) -> Path:
    """The database of ``--db``, else ``audit.db_path``, else ``kiosk.db`` in the platform
    data folder."""
    if args.db:
        # Absolute: the settings refuse a relative audit.db_path (see kiosk.settings.schema).
        return Path(args.db).expanduser().absolute()
    return resolve_db_path(ctx.settings, default_data_dir(ctx.environ))


def open_log(args: argparse.Namespace, ctx: Any, *, write: bool = False,
             integrity: bool = False, hasher: bool = False, chain: bool = False,
             frames: bool = False) -> AuditLog:
    """Open the log; keys are looked for, never created. A keyed log needs its chain key to
    be written or verified (the error then says where the key is looked for); ``frames``:
    with the key that decrypts best frames."""
    path = db_path(args, ctx)
    config = AuditConfig.from_settings(ctx.settings, store_best_frame=False)
    keys = key_store(ctx.settings, path, create=False)
    subject_hasher = keys.subject_hasher() if hasher else None
    frame_cipher = keys.frame_cipher() if frames else None
    chain_key = None
    if chain or write:
        try:
            chain_key = keys.chain_key()
        except KeyUnavailable:
            present = [f for f in (keys.default_file, keys.legacy_file)
                       if f is not None and f.exists()]
            if ctx.settings.audit.key_file or present:
                raise  # a key file is there but unusable (its mode, its content): say so
            chain_key = None  # fine for a log never keyed; a keyed one says it needs the key
    try:
        return AuditLog.open(path, config, read_only=not write, create=False,
                             check_integrity=integrity, subject_hasher=subject_hasher,
                             frame_cipher=frame_cipher, chain_key=chain_key,
                             probe_write=False)
    except AuditUnavailable as exc:
        lost = kept_there(exc, path, ctx.settings.audit.key_file)
        if lost is None:
            raise
        raise lost from None


def kept_there(exc: AuditUnavailable, path: Path, key_file: str) -> AuditUnavailable | None:
    """When ``exc`` says there is no database at ``path`` and the kiosk kept a log there: the
    same error, saying so; None otherwise (another fault, or no log was ever begun there)."""
    if exc.reason != MISSING:
        return None
    try:
        kept = read_registration(path, key_file or None)
    except AuditUnavailable:
        return None  # an unreadable register adds nothing to "no database here"
    if kept is None:
        return None
    return AuditUnavailable(f"{exc}, though the kiosk kept its log {kept.db_id[:8]} there "
                            f"(since {kept.registered_at[:10]}): it was deleted or moved",
                            reason=exc.reason, path=exc.path)
