"""The presentations the fusion is fitted on: every manifest row's Signals, and simulated attacks.

Used by scripts/train_fusion.py. Each presentation runs through the kiosk's own analyzers
(:func:`kiosk.analysis.passive.default_analyzers` / ``still_analyzers``, hand-held camera);
the Signals are cached in a folder keyed by the digest of the analyzer and simulator code, so
a second run only refits. Simulated attacks are rendered from every bona fide video with
:mod:`kiosk.lab.simulated_attacks` and fixed seeds (``seed + 1000 * k + i`` for attack k of
row i).
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kiosk.analysis.signals import scalar_details

log = logging.getLogger(__name__)

# Code and data whose change invalidates cached signals (paths relative to the repository).
ANALYZER_SOURCES = (
    "kiosk/analysis/context", "kiosk/analysis/motion", "kiosk/analysis/screen",
    "kiosk/analysis/life", "kiosk/analysis/mask", "kiosk/analysis/challenges",
    "kiosk/analysis/texture.py", "kiosk/analysis/face.py", "kiosk/analysis/passive.py",
    "resources/models/texture_reference.json", "resources/models/face_landmarker.task")
SIMULATOR_SOURCES = ("kiosk/lab/simulate", "kiosk/lab/simulated_attacks.py", "kiosk/lab/media.py")


def _code(path: Path) -> bytes:
    """What a source file computes: its syntax tree without docstrings or comments (so a
    reworded comment does not invalidate hours of cached signals); other files' bytes."""
    data = path.read_bytes()
    if path.suffix != ".py":
        return data
    tree = ast.parse(data)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(tree).encode()


def code_digest(repo: Path, sources: tuple[str, ...]) -> str:
    """Digest of the code whose change invalidates cached signals (see :func:`_code`)."""
    h = hashlib.sha256()
    for rel in sources:
        p = repo / rel
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(repo)).encode())
            h.update(_code(f))
    return h.hexdigest()[:16]


def extract(path: Path, still: bool, frame_range, reference) -> dict[str, Any]:
    """Track one media file and run the kiosk's analyzers over it (plain, JSON-ready values)."""
    from kiosk.analysis.face import FaceTracker
    from kiosk.analysis.passive import default_analyzers, run_analyzers, still_analyzers
    from kiosk.camera import open_source

    start, end = frame_range if frame_range else (0, None)
    analyzers = still_analyzers(reference) if still else default_analyzers(
        texture_reference=reference)
    n = faces = 0
    t0 = time.perf_counter()
    with open_source(str(path), paced=False, start=start, end=end) as source, \
            FaceTracker() as tracker:
        fps = source.fps

        def pairs():
            nonlocal n, faces
            for frame in source:
                obs = tracker.observe(frame)
                n += 1
                faces += obs.face is not None
                yield frame, obs
        signals = run_analyzers(pairs(), analyzers)
    return {"n_frames": n, "faces": faces, "fps": fps, "seconds": time.perf_counter() - t0,
            "signals": [{"name": s.name, "score": float(s.score),
                         "confidence": float(s.confidence), "reason": s.reason,
                         "details": scalar_details(s.details)} for s in signals]}


def cached(cache: Path, key: dict[str, Any], compute: Callable[[], dict[str, Any]]
           ) -> dict[str, Any]:
    """``compute()`` stored under the digest of ``key`` in ``cache`` (computed once)."""
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    f = cache / f"{digest}.json"
    if f.is_file():
        return json.loads(f.read_text())
    value = compute()
    value["key"] = key
    f.write_text(json.dumps(value))
    return value


def presentations(manifest: Path, *, repo: Path, cache: Path, seconds: float, per_clip: int,
                  reference, tmp: Path, seed: int,
                  progress: Callable[[str], None] = lambda _: None) -> list[dict[str, Any]]:
    """Every usable manifest row (overlay rows left out), plus simulated attacks rendered from
    the bona fide videos.

    Returns
    -------
    list of dict
        ``row`` (manifest row as a dict), ``simulated``, ``signals``, ``n_frames``, ``faces``,
        ``fps``; simulated ones also ``kind``, ``source`` (the bona fide row's path), ``seed``.
    """
    from kiosk.lab.manifest import read_manifest
    from kiosk.lab.media import render_simulated, simulated_row
    from kiosk.lab.simulated_attacks import kinds

    digest = code_digest(repo, ANALYZER_SOURCES)
    sim_digest = code_digest(repo, SIMULATOR_SOURCES)
    rows = [r for r in read_manifest(manifest) if not r.overlay]
    base = manifest.parent
    out = []
    for i, row in enumerate(rows):
        key: dict[str, Any] = {"code": digest, "path": row.path, "frames": row.frames,
                               "kind": "real"}

        def analyse(row=row) -> dict[str, Any]:
            return extract(base / row.path, row.still, row.frame_range, reference)

        value = cached(cache, key, analyse)
        out.append({"row": row.as_dict(), "simulated": False, **value})
        progress(f"real {row.label:<9} {row.species:<6} {row.path} ({value['n_frames']} frames)")
        if row.label != "bona_fide" or row.still:
            continue
        for k, kind in enumerate(kinds(per_clip)):
            sim_seed = seed + 1000 * k + i
            key = {"code": digest, "simulator": sim_digest, "path": row.path,
                   "frames": row.frames, "kind": kind, "seed": sim_seed, "seconds": seconds}

            def render(row=row, kind=kind, sim_seed=sim_seed):
                target = render_simulated(base / row.path, row, kind, sim_seed, tmp, seconds)
                try:
                    return extract(target, False, None, reference)
                finally:
                    target.unlink(missing_ok=True)

            value = cached(cache, key, render)
            sim = simulated_row(row, kind, sim_seed)
            out.append({"row": sim.as_dict(), "simulated": True, "kind": kind,
                        "source": row.path, "seed": sim_seed, **value})
            progress(f"sim  {kind:<12} seed {sim_seed} of {row.path}")
    return out


def source_groups(paths: Sequence[str], groups: Sequence[str]) -> list[str]:
    """Held-out groups that share neither a source nor a person.

    Parameters
    ----------
    paths : sequence of str
        Each presentation's manifest path; a simulated attack's is
        ``simulated/<kind>/seed-N/<its bona fide video's path>``.
    groups : sequence of str
        Each presentation's subject group (same length).

    Returns
    -------
    list of str
        Per presentation, a name for its group: the public repository it comes from (the path's
        first folder; a simulated attack's bona fide video's), joined with every subject group
        found in that repository, and every repository that subject appears in (a vendor's
        replays and the live videos they replay, kept in two repositories, become one group).
    """
    if len(paths) != len(groups):
        raise ValueError(f"{len(paths)} paths but {len(groups)} groups")
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    sources = []
    for path in paths:
        parts = Path(path).parts
        if parts and parts[0] == "simulated":
            parts = parts[3:]
        sources.append(parts[0] if parts else "")
    for source, group in zip(sources, groups, strict=True):
        parent[find(("source", source))] = find(("subject", str(group)))
    # Each group is named by its alphabetically first repository.
    names: dict[tuple[str, str], str] = {}
    for node in sorted(parent):
        if node[0] == "source":
            names.setdefault(find(node), node[1])
    return [names[find(("source", source))] for source in sources]
