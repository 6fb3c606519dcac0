"""Face-pair plots for ``kiosk evaluate --pairs``: the distance distributions and a DET curve.

``pairs_distances.png`` shows the descriptor distances of same-person and different-person
pairs (every compared pair of every photo variant), the threshold distance, and the normal
model of the different-person distances that the calibration reads its 1% false-accept point
from. ``pairs_det.png`` draws false-reject against false-accept rate over every threshold on
the normal-deviate scale of :mod:`kiosk.lab.det_plot`, with the operating point marked and,
dashed, the curve of the two normal models (on a set whose pairs all separate, the measured
curve hugs the plot's edges).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from kiosk.lab.det_plot import _probit, probit_axes
from kiosk.lab.pad_metrics import det_points

BINS = [round(0.025 * i, 3) for i in range(45)]  # 0 to 1.1


def _split(distances: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    same = np.array([d["distance"] for d in distances if d["same"]], np.float64)
    different = np.array([d["distance"] for d in distances if not d["same"]], np.float64)
    return same, different


def plot_pair_distances(path: str | Path, distances: Sequence[Mapping[str, Any]],
                        threshold_distance: float, title: str = "Face pairs") -> Path:
    """Histograms of same- and different-person distances, with the threshold.

    Parameters
    ----------
    path : str or Path
        Output PNG; its folder must exist.
    distances : sequence of mapping
        ``{"distance": float, "same": bool, ...}`` per compared pair (``evaluate_pairs``).
    threshold_distance : float
        The matcher's threshold as a distance (a pair matches at or below it).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    same, different = _split(distances)
    fig, ax = plt.subplots(figsize=(7.0, 4.2), dpi=100)
    try:
        ax.hist(same, bins=BINS, alpha=0.6, color="tab:green",
                label=f"same person ({same.size})")
        ax.hist(different, bins=BINS, alpha=0.6, color="tab:red",
                label=f"different people ({different.size})")
        if different.size >= 2:
            mean, sd = float(different.mean()), float(different.std(ddof=1))
            xs = np.linspace(0.0, 1.1, 300)
            scale = different.size * (BINS[1] - BINS[0])
            ax.plot(xs, scale * norm.pdf(xs, mean, sd), color="tab:red", lw=1,
                    label=f"normal model of different ({mean:.2f} +/- {sd:.2f})")
        ax.axvline(threshold_distance, color="black", ls="--",
                   label=f"threshold distance {threshold_distance:.3f}")
        ax.set_xlabel("descriptor distance (dlib ResNet; smaller = more alike)")
        ax.set_ylabel("pairs")
        ax.set_title(title)
        ax.legend(fontsize=8)
        out = Path(path)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out


def plot_pair_det(path: str | Path, distances: Sequence[Mapping[str, Any]],
                  threshold_distance: float, title: str = "Face pairs: DET") -> Path:
    """False-reject against false-accept rate over every distance threshold.

    Rates of 0 and 1 are clipped to the plot's edges (0.1% and 99.9%), where most points of a
    small set lie.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    same, different = _split(distances)
    fig, ax = plt.subplots(figsize=(6.0, 6.0), dpi=100)
    try:
        if same.size and different.size:
            # det_points scores "higher = refuse": the distance is such a score.
            fars, frrs = det_points(same, different)
            ax.step(_probit(fars), _probit(frrs), where="post",
                    label=f"{same.size} same, {different.size} different pairs")
            if same.size >= 2 and different.size >= 2:
                # The normal models the calibration reads (dashed): where the few pairs end
                # at the plot's edges, the models say how close the classes are.
                ts = np.linspace(0.0, 1.2, 400)
                model_far = norm.cdf(ts, different.mean(), different.std(ddof=1))
                model_frr = norm.sf(ts, same.mean(), same.std(ddof=1))
                ax.plot(_probit(model_far), _probit(model_frr), "--", lw=1,
                        label="normal models of both distributions")
            op_far = float(np.mean(different <= threshold_distance))
            op_frr = float(np.mean(same > threshold_distance))
            ax.plot(_probit(np.array([op_far])), _probit(np.array([op_frr])), "o",
                    label=f"threshold distance {threshold_distance:.3f}: FAR {op_far:.3f}, "
                          f"FRR {op_frr:.3f}")
            ax.legend(loc="upper right", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no same or no different pairs", ha="center", va="center",
                    transform=ax.transAxes)
        probit_axes(ax, "false accept rate (%)", "false reject rate (%)", title)
        out = Path(path)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
