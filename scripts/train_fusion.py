#!/usr/bin/env python
"""Fit the liveness fusion (resources/models/fusion.json) and report leave-one-subject-out.

Usage::

    .venv/bin/python scripts/train_fusion.py [--manifest ../shared/data/manifest.csv]
        [--out resources/models/fusion.json] [--seconds 7] [--per-clip 3] [--no-write]
        [--table]

What it does, and why this way:

* Data. Every video row of the developer manifest except those whose notes start with
  ``overlay:`` (app UI over the picture), respecting frame ranges; plus simulated attacks
  rendered from every bona fide video (a held print, a replay and a tilted print, 7 s each,
  fixed seeds; :mod:`kiosk.lab.fusion_data`). Stills are refused by the kiosk (a single image
  cannot show life, :mod:`kiosk.analysis.fusion`); they are analysed and listed, never fitted
  or counted in a PAD figure. Videos under 10 frames a second are refused too (a blink can
  fall between frames, :mod:`kiosk.analysis.capture`; judged by the file's frame rate, the
  rate the analyzers see when every frame is analysed): they are fitted, because what a cue
  does on a bona fide capture is real evidence whatever the frame rate (the single-frame cues
  see each frame alike, and the multi-frame cues that need a rate abstain with confidence 0),
  but left out of every figure, which counts only what the kiosk judges.
* Model. ``logit P(attack) = bias + sum_i w_i * attack_i - sum_j v_j * life_j`` with
  ``w, v >= 0`` (:mod:`kiosk.lab.fusion_fit`). Every cue can push toward attack above its
  floor; the cues in LIFE_CUES, which measure something only a live face does, can also push
  toward live below their life point. A Gaussian prior on the weights (ATTACK_MEAN for the
  attack side, 0 for life, PRIOR_SD), the bias unpenalised, bona fide and attacks weighing
  half each (equal prior odds).
* Held-out numbers. Leave one subject out: every presentation (and every simulated attack
  rendered from it, and every replay of that person) is scored by a model fitted without its
  subject (manifest ``subject``; rows without one are their own group). Printed beside it:
  leave one source out (a public repository and every person in it held out together: the
  shift a held-out set from another source brings),
  the attack-only model (no life side, issue 4's design), the attack prior centred on 0,
  training on real material only, the sensitivity to PRIOR_SD, and the in-sample figures of
  the shipped model. Real and
  simulated attacks are reported apart, with AUC and liveness distributions.
* Constants. FLOORS, LIFE_BELOW, PRIOR_SD, MIN_EVIDENCE, INSUFFICIENT_PROBABILITY and
  REASON_MIN_LOGIT are set from the analyzers' design (see their comments), not from these
  results; no constant is chosen by looking at a file. The metrics are reported at the
  kiosk's default liveness threshold of 90.

The written JSON loads with :meth:`kiosk.analysis.fusion.Fusion.load`; its ``provenance``
names the manifest (and its SHA-256), this script, the date, the seed, the git commit, the
code digests and the held-out metrics.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kiosk.analysis.capture import too_slow
from kiosk.analysis.fusion import FORMAT_VERSION, FUSION_MODEL, Fusion
from kiosk.analysis.passive import MULTI_FRAME, SINGLE_FRAME
from kiosk.analysis.texture import load_texture_reference
from kiosk.lab.fusion_data import (
    ANALYZER_SOURCES,
    SIMULATOR_SOURCES,
    code_digest,
    presentations,
    source_groups,
)
from kiosk.lab.fusion_fit import evidence_matrices, fit_fusion
from kiosk.lab.fusion_report import blocks, format_blocks, rounded
from kiosk.lab.provenance import file_sha256, git_commit
from kiosk.lab.simulated_attacks import kinds
from kiosk.resources import pin

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = REPO.parent / "shared" / "data" / "manifest.csv"
CACHE = REPO / "build" / "fusion-cache"
SEED = 1

NAMES = SINGLE_FRAME + MULTI_FRAME
# Each cue counts toward attack from its analyzer's own midpoint (score 0.5), where its author
# put the edge of what bona fide presentations produce; below it a score is bona fide noise.
FLOORS = dict.fromkeys(NAMES, 0.5)
# Cues that measure something only a live face does, and so may vouch for life below their
# own midpoint: skin-like texture, 3D parallax of a turning head, a pulse, eyelids and mouth
# that deform as skin does, cheeks that move with a smile. The others detect an attack; their
# silence is not life.
LIFE_CUES = ("texture", "planar", "pulse", "expression", "rigid_smile")
LIFE_BELOW = {n: (0.5 if n in LIFE_CUES else None) for n in NAMES}
# Prior on each weight, in log-odds per unit of evidence: N(ATTACK_MEAN, 5^2) toward attack,
# N(0, 5^2) toward life. Every attack cue was built so that a score above its midpoint lies
# beyond what live faces produce: at full score and confidence it is a priori worth ln 9
# (alone it takes even odds to P(attack) = 0.9, liveness 10), and the data move it from there
# (down to 0 for a cue that fires on bona fide presentations). A cue the data cannot judge,
# because no presentation here shows its evidence (the flicker of a full-view replay has two
# examples, reflections and a mask's rigid smile none), keeps its designed meaning instead of
# being switched off. Evidence of life must be earned from the data: its prior mean is 0. With
# sd 5 one fully trusted cue may decide a presentation, but a handful of presentations cannot
# make a cue overwhelming.
PRIOR_SD = 5.0
ATTACK_MEAN = math.log(9.0)
PRIOR_SD_SWEEP = (1.0, 2.0, 5.0, 10.0, 20.0)
# Too little evidence to decide: a session whose single-frame cues each measured one frame
# gathers about half their confidence caps (texture 0.3, moire 0.6, edges 0.5, glare 0.5,
# lighting 0.25, display 0.3: ~1.2); below 1.0 fewer than about two independent looks at the
# face were possible.
MIN_EVIDENCE = 1.0
INSUFFICIENT_PROBABILITY = 0.5
# Every cue that pushed toward attack is named, except pushes below 0.1 log-odds (10 % in the
# odds), a score just past its floor that changed nothing.
REASON_MIN_LOGIT = 0.1
# The liveness threshold the metrics are reported at (liveness.confidence_threshold default).
LIVENESS_THRESHOLD = 90.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def design(items: list[dict], life_below=LIFE_BELOW):
    """Evidence matrices, labels, groups, and which items the model decides."""
    attack, life = evidence_matrices([it["signals"] for it in items], NAMES, FLOORS,
                                     life_below)
    y = np.array([it["row"]["label"] == "attack" for it in items], int)
    groups = np.array([it["row"]["subject"] or it.get("source", it["row"]["path"])
                       for it in items])
    evidence = np.array([sum(s["confidence"] for s in it["signals"] if s["name"] in NAMES)
                         for it in items])
    return attack, life, y, groups, evidence >= MIN_EVIDENCE


def final_probability(model, attack, life, decided) -> np.ndarray:
    """P(attack) as the fusion gives it, with the insufficient-evidence floor."""
    p = model.probability(attack, life)
    return np.where(decided, p, np.maximum(p, INSUFFICIENT_PROBABILITY))


def loso(attack, life, y, groups, decided, sim, *, prior_sd, train_sim=True,
         life_cues=LIFE_CUES, attack_mean=ATTACK_MEAN) -> np.ndarray:
    """Held-out P(attack): each subject group scored by a fit without it."""
    p = np.full(len(y), np.nan)
    train = decided & (np.ones(len(y), bool) if train_sim else ~sim)
    for g in np.unique(groups):
        held = groups == g
        fit_on = train & ~held
        model = fit_fusion(attack[fit_on], life[fit_on], y[fit_on], NAMES,
                           life_cues=life_cues, prior_sd=prior_sd, attack_mean=attack_mean)
        p[held] = final_probability(model, attack[held], life[held], decided[held])
    return p


# Cues the developer set cannot fit, with weights stated from principle instead. The light
# challenge (issue 16) needs a screen lighting a face in the room: no recording here has one,
# so its weights are the attack prior's centre, ln 9 (a cue that answers exactly as a live
# face does, or exactly not, is worth a likelihood ratio of 9 at full confidence until real
# captures say otherwise), both ways. Its judged failures also fail the session on their own
# (kiosk/session/verifier.py), as a failed prompt does.
STATED_CUES = {
    "light": {"reason": "LIGHT_NOT_REFLECTED", "floor": 0.5, "life_below": 0.5,
              "weight": round(math.log(9.0), 4), "life_weight": round(math.log(9.0), 4)},
}


def model_json(model, items, refused, metrics: dict, manifest: Path, args) -> dict:
    weights = {n: round(float(w), 4) for n, w in zip(NAMES, model.weights, strict=True)}
    life = {n: round(float(v), 4) for n, v in zip(NAMES, model.life_weights, strict=True)
            if n in LIFE_CUES}
    weights.update({n: c["weight"] for n, c in STATED_CUES.items()})
    life.update({n: c["life_weight"] for n, c in STATED_CUES.items()})
    reasons = {s["name"]: s["reason"] for it in items for s in it["signals"]}
    counts: dict[str, int] = {}
    for it in items:
        key = (f"{'simulated' if it['simulated'] else 'real'}_video_"
               f"{it['row']['species'] or 'bona_fide'}")
        counts[key] = counts.get(key, 0) + 1
    return {
        "version": FORMAT_VERSION,
        "kind": "evidence for and against: logit P(attack) = bias + sum_i w_i * attack_i - "
                "sum_j v_j * life_j, w, v >= 0 (kiosk/analysis/fusion.py)",
        "cues": {**{n: {"reason": reasons[n], "floor": FLOORS[n],
                        "life_below": LIFE_BELOW[n]} for n in NAMES},
                 **{n: {k: c[k] for k in ("reason", "floor", "life_below")}
                    for n, c in STATED_CUES.items()}},
        "video": {"bias": round(model.bias, 4), "weights": weights, "life_weights": life,
                  "min_evidence": MIN_EVIDENCE},
        "stills": "refused: a single image cannot show life (reason SINGLE_IMAGE)",
        "insufficient_probability": INSUFFICIENT_PROBABILITY,
        "reason_min_logit": REASON_MIN_LOGIT,
        "calibration": "P(attack) for equal prior odds (bona fide and attack presentations "
                       "weigh half each); liveness = 100 * (1 - P). Liveness 90 = P(attack) "
                       "<= 0.10, a likelihood ratio <= 1/9.",
        "provenance": {
            "script": "scripts/train_fusion.py",
            "data": {"manifest": manifest.name,
                     "manifest_sha256": file_sha256(manifest),
                     "excluded": "rows whose notes start with overlay:; stills (refused: "
                                 f"{len(refused)} analysed and listed, not fitted)",
                     "not_judged": "videos under 10 frames a second are fitted but left out "
                                   "of every metric (the kiosk refuses them: "
                                   "CAPTURE_TOO_SLOW)",
                     "simulated": f"{args.per_clip} per bona fide video "
                                  f"({', '.join(kinds(args.per_clip))}), {args.seconds:g} s "
                                  "each (kiosk.lab.simulated_attacks)",
                     "presentations": dict(sorted(counts.items()))},
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "seed": SEED,
            "git_commit": git_commit(REPO),
            "code_digest": {"analyzers": code_digest(REPO, ANALYZER_SOURCES),
                            "simulator": code_digest(REPO, SIMULATOR_SOURCES)},
            "fit": {"prior_sd": PRIOR_SD, "attack_prior_mean": round(ATTACK_MEAN, 4),
                    "life_prior_mean": 0.0, "floors": FLOORS, "life_below": LIFE_BELOW,
                    "weights": "non-negative (L-BFGS-B)",
                    "sample_weights": "balanced bona fide / attack",
                    "min_evidence": MIN_EVIDENCE, "reason_min_logit": REASON_MIN_LOGIT},
            "metrics": metrics,
            "stated": {n: "weights stated, not fitted: no light captures in the developer "
                          "set (scripts/train_fusion.py STATED_CUES)" for n in STATED_CUES},
        },
    }


def table(items: list[dict]) -> None:
    print(f"{'kind':<5} {'label':<9} {'species':<7} " + " ".join(f"{n[:9]:>10}" for n in NAMES)
          + "  path")
    for it in items:
        row, by_name = it["row"], {s["name"]: s for s in it["signals"]}
        cells = " ".join((f"{by_name[n]['score']:.2f}/{by_name[n]['confidence']:.1f}"
                          if n in by_name else "-").rjust(10) for n in NAMES)
        print(f"{'sim' if it['simulated'] else 'real':<5} {row['label']:<9} "
              f"{row['species']:<7} {cells}  {row['path'][-40:]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--out", type=Path, default=FUSION_MODEL)
    parser.add_argument("--seconds", type=float, default=7.0,
                        help="length of each simulated attack video (default 7 s)")
    parser.add_argument("--per-clip", type=int, default=3,
                        help="simulated attacks per bona fide video (default 3: print, "
                             "replay, tilted print)")
    parser.add_argument("--no-write", action="store_true", help="report only")
    parser.add_argument("--table", action="store_true", help="print every presentation's cues")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fusion-sim-") as tmp:
        every = presentations(args.manifest, repo=REPO, cache=CACHE, seconds=args.seconds,
                              per_clip=args.per_clip, reference=load_texture_reference(),
                              tmp=Path(tmp), seed=SEED, progress=log)
    refused = [it for it in every if it["row"]["media"] == "image"]
    items = [it for it in every if it["row"]["media"] != "image"]
    judged = np.array([not too_slow(it["fps"]) for it in items])
    slow = [it for it, j in zip(items, judged, strict=True) if not j]
    counted = [it for it, j in zip(items, judged, strict=True) if j]
    if args.table:
        table(every)
    attack, life, y, groups, decided = design(items)
    sim = np.array([bool(it["simulated"]) for it in items])
    threshold = (100.0 - LIVENESS_THRESHOLD) / 100.0
    print(f"\n{len(items)} video presentations ({int((~sim).sum())} real, {int(sim.sum())} "
          f"simulated), {len(np.unique(groups))} subject groups; "
          f"{len(refused)} stills refused; {len(slow)} videos fitted but not judged, too "
          "slow (" + ", ".join(f"{it['row']['path']} {it['fps']:.1f} fps" for it in slow)
          + "); "
          f"{int((~decided).sum())} below the evidence floor: "
          + ", ".join(it["row"]["path"] for it, d in zip(items, decided, strict=True) if not d))


    def figures(p: np.ndarray) -> dict:
        """The metric blocks over the presentations the kiosk judges."""
        return blocks(counted, p[judged], threshold)

    p_loso = loso(attack, life, y, groups, decided, sim, prior_sd=PRIOR_SD)
    held_out = figures(p_loso)
    print(format_blocks(f"leave one subject out, prior sd {PRIOR_SD:g}, liveness threshold "
                        f"{LIVENESS_THRESHOLD:g} (attack score >= {threshold:.2f})", held_out))
    comparisons = {}
    by_source = np.array(source_groups([it["row"]["path"] for it in items], groups))
    comparisons["leave_one_source_out"] = figures(loso(attack, life, y, by_source, decided, sim,
                                                       prior_sd=PRIOR_SD))
    print(format_blocks(f"comparison: leave one source out ({len(np.unique(by_source))} groups: "
                        "a public repository and every person in it held out together, as a "
                        "held-out set from elsewhere would be)",
                        comparisons["leave_one_source_out"]))
    zero_life = {n: None for n in NAMES}
    a0, l0 = evidence_matrices([it["signals"] for it in items], NAMES, FLOORS, zero_life)
    comparisons["attack_only"] = figures(loso(a0, l0, y, groups, decided, sim,
                                              prior_sd=PRIOR_SD, life_cues=()))
    print(format_blocks("comparison: attack-only evidence (no life side; leave one subject "
                        "out)", comparisons["attack_only"]))
    comparisons["prior_mean_0"] = figures(loso(attack, life, y, groups, decided, sim,
                                               prior_sd=PRIOR_SD, attack_mean=0.0))
    print(format_blocks("comparison: attack weights' prior centred on 0 (leave one subject "
                        "out)", comparisons["prior_mean_0"]))
    comparisons["real_only"] = {k: v for k, v in figures(
        loso(attack, life, y, groups, decided, sim, prior_sd=PRIOR_SD,
             train_sim=False)).items() if k.startswith("real")}
    print(format_blocks("comparison: trained on real material only (leave one subject out)",
                        comparisons["real_only"]))
    sweep = {}
    for sd in PRIOR_SD_SWEEP:
        b = figures(loso(attack, life, y, groups, decided, sim, prior_sd=sd))
        sweep[str(sd)] = {k: {"apcer_max": b[k]["apcer"]["max"], "bpcer": b[k]["bpcer"],
                              "auc": b[k]["auc"]} for k in b}
    print("\nsensitivity to the prior sd (leave one subject out; APCER max / BPCER / AUC):")
    for sd, b in sweep.items():
        print(f"  sd {sd:>5}: " + "; ".join(
            f"{k} {v['apcer_max']}/{v['bpcer']}/{v['auc']}" for k, v in b.items()))

    model = fit_fusion(attack[decided], life[decided], y[decided], NAMES,
                       life_cues=LIFE_CUES, prior_sd=PRIOR_SD, attack_mean=ATTACK_MEAN)
    p_in = final_probability(model, attack, life, decided)
    in_sample = figures(p_in)
    print(format_blocks("in-sample (the shipped model on its own training data; optimistic)",
                        in_sample))
    print("\nweights toward attack: " + ", ".join(
        f"{n} {w:.2f}" for n, w in zip(NAMES, model.weights, strict=True))
        + "\nweights toward life: " + ", ".join(
        f"{n} {v:.2f}" for n, v in zip(NAMES, model.life_weights, strict=True)
        if n in LIFE_CUES) + f"\nbias {model.bias:.2f}")
    print("\nper presentation (held-out liveness, in-sample liveness):")
    per = []
    for it, ph, pi, j in zip(items, p_loso, p_in, judged, strict=True):
        row = it["row"]
        flag = ("FTA" if not j else
                "ERR" if (ph >= threshold) != (row["label"] == "attack") else "   ")
        print(f"  {flag} {'sim ' if it['simulated'] else 'real'} {row['label']:<9} "
              f"{row['species']:<6} {100 * (1 - ph):6.2f} {100 * (1 - pi):6.2f}  {row['path']}")
        if not it["simulated"] and j:
            per.append({"path": row["path"], "label": row["label"], "species": row["species"],
                        "liveness_loso": round(100 * (1 - float(ph)), 2)})
    metrics = {"threshold_liveness": LIVENESS_THRESHOLD, "leave_one_subject_out": held_out,
               "comparisons": comparisons, "in_sample": in_sample, "prior_sd_sweep": sweep,
               "real_per_presentation": per,
               "stills_refused": [it["row"]["path"] for it in refused],
               "not_judged_too_slow": [{"path": it["row"]["path"], "label": it["row"]["label"],
                                        "fps": round(it["fps"], 2)}
                                       for it in slow if not it["simulated"]]}
    result = model_json(model, items, refused, rounded(metrics), args.manifest, args)
    if not args.no_write:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        if args.out.resolve() == FUSION_MODEL.resolve():
            print(f"pinned its SHA-256 {pin(FUSION_MODEL)} in kiosk/resources.py")
        Fusion.load(args.out)  # the file written is one the kiosk can load
        print(f"\nwrote {args.out}")
    print(json.dumps({"leave_one_subject_out": {k: {"apcer": v["apcer"], "bpcer": v["bpcer"],
                                                    "auc": v["auc"]}
                                                for k, v in held_out.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
