"""DET curves (APCER against BPCER per attack species) drawn to a PNG file.

The axes use the normal-deviate (probit) scale of a detection error trade-off plot (Martin et
al., 1997), on which the curves of Gaussian score distributions are straight lines. Rates of 0
and 1 cannot be drawn on that scale; they are clipped to the plot's edges (0.1 % and 99.9 %),
which with the few presentations of a small set is where most points lie.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import norm

from kiosk.lab.pad_metrics import det_points

EDGE = 0.001
TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999)


def _probit(rates: np.ndarray) -> np.ndarray:
    return norm.ppf(np.clip(rates, EDGE, 1.0 - EDGE))


def probit_axes(ax, xlabel: str, ylabel: str, title: str) -> None:
    """A DET plot's axes: both on the probit scale, ticks in percent, from EDGE to 1 - EDGE."""
    ticks = _probit(np.array(TICKS))
    labels = [f"{100 * t:g}" for t in TICKS]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    lim = (_probit(np.array([EDGE]))[0] - 0.2, _probit(np.array([1 - EDGE]))[0] + 0.2)
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def plot_det(path: str | Path, curves: Sequence[Mapping], threshold: float,
             title: str = "DET per attack species") -> Path:
    """Draw DET curves and each curve's operating point to ``path`` (PNG).

    Parameters
    ----------
    path : str or Path
        Output file; its folder must exist.
    curves : sequence of mapping
        Each ``{"label": str, "bona_fide": scores, "attack": scores, "dashed": bool}`` with
        attack scores (higher = more likely an attack); curves with no attack or no bona fide
        score are skipped.
    threshold : float
        The operating threshold, marked on every curve.
    title : str

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: the kiosk and CI have none
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 6.0), dpi=100)
    try:
        drawn = 0
        for curve in curves:
            bona = np.asarray(curve["bona_fide"], np.float64)
            attack = np.asarray(curve["attack"], np.float64)
            if bona.size == 0 or attack.size == 0:
                continue
            apcers, bpcers = det_points(bona, attack)
            style = "--" if curve.get("dashed") else "-"
            line, = ax.step(_probit(apcers), _probit(bpcers), style, where="post",
                            label=f"{curve['label']} ({attack.size} attacks, "
                                  f"{bona.size} bona fide)")
            op_apcer = float(np.mean(attack < threshold))
            op_bpcer = float(np.mean(bona >= threshold))
            ax.plot(_probit(np.array([op_apcer])), _probit(np.array([op_bpcer])), "o",
                    color=line.get_color())
            drawn += 1
        probit_axes(ax, "APCER (%)", "BPCER (%)", title)
        if drawn:
            ax.legend(loc="upper right", fontsize=8,
                      title=f"dots: operating point (threshold {threshold:.3g})",
                      title_fontsize=8)
        else:
            ax.text(0.5, 0.5, "no species with both attack and bona fide presentations",
                    ha="center", va="center", transform=ax.transAxes)
        out = Path(path)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
