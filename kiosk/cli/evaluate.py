"""``kiosk evaluate MANIFEST.csv [--pairs PAIRS.csv] --out DIR``: measure the kiosk on labelled media.

Every manifest row (its frame range only) is tracked, analysed by the passive analyzers, fused
(:class:`kiosk.analysis.fusion.Fusion`) and run through the challenge detectors; rows whose
notes start with ``overlay:`` are counted and left out, and stills are refused by the fusion
(listed, counted in ``refused``, never in a PAD figure). Writes ``DIR/metrics.json`` (issue 4's
keys plus AUC and liveness distributions per block, see
:func:`kiosk.lab.evaluation.build_metrics`) and ``DIR/det.png``. With ``--pairs`` the offline
(local) face matcher is measured too; with ``--simulated N``, N simulated attacks per bona
fide video are rendered and reported in their own block. With ``--sessions`` the kiosk's
whole session runs on every recording instead (:mod:`kiosk.cli.evaluate_sessions`).

Exit status: 0 when every row was analysed, 1 when some could not be (listed under
``failed``), 2 for unusable arguments (manifest, pairs file, output folder).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.cli.args import WHOLE_NUMBER
from kiosk.errors import InputError, KioskError

log = logging.getLogger(__name__)

# Simulated attacks: seconds per rendered clip (the pulse cue needs 6 s of face; a kiosk
# session lasts about 10 s) and the first seed (see simulated_plan).
SIM_SECONDS = 7.0
SIM_SEED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="PAD, challenge-event and face-matching metrics on a labelled manifest",
        description="Analyse every presentation of a manifest (see ../shared/data/"
                    "PROVENANCE.md for the format) and write DIR/metrics.json (ISO/IEC 30107-3 "
                    "APCER per species, BPCER, ACER, BPCER at APCER 1%; challenge-event "
                    "precision and recall; face-matching TAR/FAR with --pairs) and DIR/det.png. "
                    "Rows whose notes start with 'overlay:' are counted and left out.")
    parser.add_argument("manifest", metavar="MANIFEST.csv", help="labelled media list")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (created if missing)")
    parser.add_argument("--pairs", metavar="PAIRS.csv",
                        help="face-matching pairs (a,b,same,notes) measured with the local "
                             "matcher")
    parser.add_argument("--simulated", type=WHOLE_NUMBER, default=0, metavar="N",
                        help="also render N simulated attacks per bona fide video (print, "
                             "replay, tilted print, cycling) and report them apart (default 0)")
    parser.add_argument("--seed", type=WHOLE_NUMBER, default=SIM_SEED,
                        help=f"first seed of the simulated attacks and the random-prompt sessions "
                             f"(default {SIM_SEED})")
    parser.add_argument("--sessions", action="store_true",
                        help="instead: run the kiosk's whole session on every recording "
                             "(scripted prompts before the labelled actions of bona fide "
                             "videos, and random prompts, which a recording must never pass); "
                             "writes DIR/sessions.json")
    parser.add_argument("--random-sessions", type=WHOLE_NUMBER, default=5, metavar="N",
                        help="with --sessions: random-prompt sessions per recording, of "
                             "each kind: the kiosk's own, and taken as placed from a random "
                             "start (default 5)")
    parser.add_argument("--accessible", action="store_true",
                        help="with --sessions: every session is the accessible check a person "
                             "can choose (longer windows, no light step, its own prompt count)")
    parser.add_argument("--camera-fixed", action="store_true",
                        help="the recordings come from a mounted camera that cannot move "
                             "(default: hand-held; the camera's motion is measured)")
    parser.set_defaults(func=run)


def output_folder(text: str) -> Path:
    """DIR, created if needed and checked writable, or InputError before any work."""
    if not text.strip():
        # Path("") is the current folder: an unset variable in a script would scatter
        # metrics.json and det.png wherever the script happens to run.
        raise InputError("--out is empty: name the output folder")
    out = Path(text).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out} cannot be created ({exc.strerror})") from None
    _check_writable(out)
    return out


def _check_writable(out: Path) -> None:
    """Write and remove a probe file: os.access is True for root and blind to read-only
    mounts, and a refusal found only when metrics.json is written wastes the whole run."""
    try:
        with tempfile.NamedTemporaryFile(dir=out, prefix=".kiosk-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"--out {out} is not writable ({exc.strerror})") from None


def write_output(path: Path, write) -> None:
    """Write one output file through a temporary file beside it, renamed into place.

    ``write(tmp_path)`` writes the content; a failure (or an interruption) leaves neither a
    partial file nor the temporary one behind.

    Raises
    ------
    InputError
        The folder refused the file (full disk, permissions changed during the run).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"{path} cannot be written ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def progress_bar(stream, **options: Any) -> Iterator[Any]:
    """A tqdm bar on ``stream`` with the log's messages printed above it, each on a line of
    its own (not glued to the bar's line)."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(), tqdm(file=stream, dynamic_ncols=True, **options) as bar:
        yield bar


def simulated_plan(rows, count: int, seed: int) -> list[tuple[Any, str, int]]:
    """(bona fide video row, attack kind, seed) for ``count`` attacks per bona fide video.

    Attack k of the i-th bona fide video has kind ``kinds(count)[k]`` and seed
    ``seed + 1000 * k + i``.
    """
    from kiosk.lab.simulated_attacks import kinds

    videos = [r for r in rows if r.label == "bona_fide" and not r.still]
    return [(row, kind, seed + 1000 * k + i)
            for k, kind in enumerate(kinds(count)) for i, row in enumerate(videos)]


def run(args: argparse.Namespace, ctx) -> int:
    from kiosk.lab.extras import require_lab

    require_lab("kiosk evaluate")
    from kiosk.analysis.fusion import Fusion
    from kiosk.analysis.texture import load_texture_reference
    from kiosk.lab.det_plot import plot_det
    from kiosk.lab.evaluation import build_metrics
    from kiosk.lab.manifest import read_manifest
    from kiosk.lab.media import analyse_file, render_simulated, simulated_row

    manifest = Path(args.manifest).expanduser()
    rows = read_manifest(manifest)
    pairs_csv = Path(args.pairs).expanduser() if args.pairs else None
    if pairs_csv is not None:
        _check_pairs(pairs_csv)
    out = output_folder(args.out)
    if args.sessions:
        from kiosk.cli.evaluate_sessions import run_sessions

        return run_sessions(args, ctx, manifest, rows, out)
    settings = ctx.settings
    usable = [r for r in rows if not r.overlay]
    excluded = len(rows) - len(usable)
    fusion = Fusion.load()
    context = {"settings": settings, "fusion": fusion,
               "texture_reference": load_texture_reference(),
               "camera_fixed": bool(args.camera_fixed)}
    sims = simulated_plan(usable, args.simulated, args.seed)

    presentations, failed = [], []
    base = manifest.parent
    with progress_bar(ctx.stderr, total=len(usable) + len(sims), desc="evaluate",
                      unit="presentation") as bar:
        for row in usable:
            bar.set_postfix_str(Path(row.path).name, refresh=False)
            try:
                presentations.append(analyse_file(base / row.path, row,
                                                  sequence=row.light_sequence(base), **context))
            except KioskError as exc:
                log.warning("%s: %s", row.key, exc)
                failed.append({"path": row.path, "frames": row.frames, "error": str(exc)})
            bar.update()
        with tempfile.TemporaryDirectory(prefix="kiosk-evaluate-") as tmp:
            for row, kind, seed in sims:
                bar.set_postfix_str(f"simulated {kind} of {Path(row.path).name}",
                                    refresh=False)
                sim_row = simulated_row(row, kind, seed)
                try:
                    target = render_simulated(base / row.path, row, kind, seed, Path(tmp),
                                              SIM_SECONDS)
                    presentations.append(analyse_file(target, sim_row, simulated=True,
                                                      **context))
                    target.unlink()
                except KioskError as exc:
                    log.warning("%s: %s", sim_row.path, exc)
                    failed.append({"path": sim_row.path, "frames": "", "error": str(exc)})
                bar.update()

    pairs = None
    if pairs_csv is not None:
        pairs = _pairs(pairs_csv, settings, ctx)
    metrics = build_metrics(presentations, confidence_threshold=settings.liveness.
                            confidence_threshold, excluded_overlay=excluded, pairs=pairs,
                            failed=failed)
    metrics["fusion_provenance"] = {k: fusion.provenance.get(k)
                                    for k in ("script", "date", "seed")}
    text = json.dumps(metrics, indent=1) + "\n"
    write_output(out / "metrics.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    threshold = metrics["pad"]["threshold"]
    write_output(out / "det.png", lambda tmp: plot_det(
        tmp, det_curves(presentations), threshold,
        title=f"DET per species ({manifest.name}; dashed: simulated)"))
    _summary(metrics, out, ctx.stdout)
    if pairs is not None:
        _pairs_outputs(pairs, out, ctx.stdout)
    return 1 if failed or (pairs is not None and pairs["unreadable"]) else 0


def _check_pairs(pairs_csv: Path) -> None:
    """Read the pairs file before any work: it is otherwise read only after every manifest
    row is analysed, and a bad value would end that run without its metrics."""
    from kiosk.lab.manifest import read_manifest
    from kiosk.lab.pairs import read_pairs

    if not pairs_csv.is_file():
        raise InputError(f"--pairs {pairs_csv} does not exist or is not a file")
    read_pairs(pairs_csv)
    beside = pairs_csv.parent / "manifest.csv"  # the subject ids of the calibration report
    if beside.is_file():
        read_manifest(beside)


def det_curves(presentations) -> list[dict]:
    """One DET curve per species with attacks: real ones, then simulated ones (dashed).

    Simulated attacks are set against the real bona fide videos they were rendered from;
    refused stills are in neither.
    """
    from kiosk.lab.pad_metrics import SPECIES

    real = [p for p in presentations if not p.simulated and not p.refused]
    sim = [p for p in presentations if p.simulated and not p.refused]
    bona = [p.attack_score for p in real if p.row.label == "bona_fide"]
    bona_videos = [p.attack_score for p in real if p.row.label == "bona_fide" and not p.row.still]
    curves = []
    for group, bona_fide, prefix in ((real, bona, ""), (sim, bona_videos, "simulated ")):
        for species in SPECIES:
            attack = [p.attack_score for p in group
                      if p.row.label == "attack" and p.row.species == species]
            curves.append({"label": prefix + species, "bona_fide": bona_fide, "attack": attack,
                           "dashed": bool(prefix)})
    return curves


def _pairs(pairs_csv: Path, settings, ctx) -> dict:
    from kiosk.cloud.factory import build_matcher
    from kiosk.lab.pairs import evaluate_pairs

    matcher = build_matcher(settings, choice="local")
    with progress_bar(ctx.stderr, desc="pairs", unit="pair") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        return evaluate_pairs(pairs_csv, matcher, progress=progress)


def _pairs_outputs(pairs: dict, out: Path, stream) -> None:
    """The pairs' distance distributions and DET plot, and the calibration's margins."""
    from kiosk.lab.pairs_plot import plot_pair_det, plot_pair_distances

    cal = pairs.get("calibration") or {}
    for name, block in pairs["variants"].items():
        stream.write(f"pairs {name:<5}: TAR {_fmt(block['tar'])} ({block['same']} same), "
                     f"FAR {_fmt(block['far'])} ({block['different']} different); "
                     f"{block['not_compared']} not compared (quality gate), "
                     f"{block['failures']} failed to acquire (no usable face)\n")
    for bad in pairs["unreadable"]:
        stream.write(f"pair NOT EVALUATED {bad['a']} / {bad['b']}: {bad['error']}\n")
    if not cal:
        return
    loso = cal["leave_one_subject_out"] or {}
    stream.write(f"pairs calibration: threshold distance {cal['threshold_distance']:.3f}; "
                 f"refit at FAR {cal['target_far']:g} {cal['fitted_distance']:.3f} (leave one "
                 f"subject out {_fmt(loso.get('min'))}-{_fmt(loso.get('max'))}); closest "
                 f"different pair {cal['closest_different']:.3f} (margin "
                 f"{cal['margin_different']:+.3f}), farthest same pair "
                 f"{cal['farthest_same']:.3f} (margin {cal['margin_same']:+.3f})\n")
    distances = pairs.get("distances") or []
    plot_pair_distances(out / "pairs_distances.png", distances, cal["threshold_distance"])
    plot_pair_det(out / "pairs_det.png", distances, cal["threshold_distance"])
    stream.write(f"wrote {out / 'pairs_distances.png'} and {out / 'pairs_det.png'}\n")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _distribution(block: dict) -> str:
    parts = []
    for who, dist in block.get("distribution", {}).items():
        if dist:
            pct = dist["liveness_percentiles"]
            parts.append(f"{who} {pct['0']:.1f}/{pct['50']:.1f}/{pct['100']:.1f} "
                         f"({dist['distinct']} distinct of {dist['n']})")
    return "; ".join(parts)


def _summary(metrics: dict, out: Path, stream) -> None:
    pad, counts = metrics["pad"], metrics["presentations"]
    attacks = ", ".join(f"{k} {v}" for k, v in counts["attack"].items() if v)
    why = metrics["refused"]["by_reason"]
    stream.write(f"{counts['bona_fide']} bona fide and {sum(counts['attack'].values())} attack "
                 f"presentations judged ({attacks or 'none'}); "
                 f"{why.get('SINGLE_IMAGE', 0)} stills refused (a single image cannot show "
                 f"life); {metrics['excluded_overlay']} overlay rows left out; "
                 f"{len(metrics['failed'])} failed\n")
    slow = metrics["by_media"].get("video", {}).get("refused")  # a video is refused as slow
    if slow:
        from kiosk.analysis.capture import MIN_ANALYSIS_FPS

        bona, attack = slow["presentations"]["bona_fide"], sum(
            slow["presentations"]["attack"].values())
        stream.write(f"{bona + attack} videos refused as failures to acquire (analysed at under "
                     f"{MIN_ANALYSIS_FPS:.0f} frames a second, too slow to show life; never a "
                     f"pass): {bona} bona fide, {attack} attack\n")
    apcer = ", ".join(f"{k} {_fmt(v)}" for k, v in pad["apcer"].items() if v is not None)
    stream.write(f"PAD at liveness {metrics['liveness_threshold']:g} (attack score >= "
                 f"{pad['threshold']:.3f}): APCER {apcer or '-'}; BPCER {_fmt(pad['bpcer'])}; "
                 f"ACER {_fmt(pad['acer'])}; BPCER@APCER1% {_fmt(pad['bpcer_at_apcer_1pct'])}; "
                 f"AUC {_fmt(pad['auc'])}\n")
    stream.write(f"liveness min/median/max: {_distribution(pad) or '-'}\n")
    for action, c in metrics["events"].items():
        stream.write(f"event {action:<11} P {_fmt(c['precision'])} R {_fmt(c['recall'])} "
                     f"({c['labelled']} labelled, {c['detected']} detected)\n")
    if metrics["pairs"] is not None:
        p = metrics["pairs"]
        stream.write(f"pairs: TAR {_fmt(p['tar'])} ({p['same']} same), FAR {_fmt(p['far'])} "
                     f"({p['different']} different) at similarity {p['threshold']:g}\n")
    if metrics["light"] is not None:
        light = metrics["light"]
        stream.write("light challenge: " + "; ".join(
            f"{label} {c['responded']} of {c['judged']} judged answered"
            for label, c in light.items()) + "\n")
    if metrics["simulated"] is not None:
        sim = metrics["simulated"]["pad"]
        apcer = ", ".join(f"{k} {_fmt(v)}" for k, v in sim["apcer"].items() if v is not None)
        stream.write(f"simulated attacks (reported apart): APCER {apcer}; AUC "
                     f"{_fmt(sim['auc'])}\n")
    stream.write(f"wrote {out / 'metrics.json'} and {out / 'det.png'}\n")
