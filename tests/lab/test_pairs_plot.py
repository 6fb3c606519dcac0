"""The pairs' distance distributions and DET plot, the calibration fit, and their report
lines in ``kiosk evaluate``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli.evaluate import _pairs_outputs
from kiosk.lab.calibration_fit import (
    calibration_report,
    far_threshold,
    leave_one_out,
    model_rate,
    rule_of_three,
)
from kiosk.lab.pairs_plot import plot_pair_det, plot_pair_distances

PNG = b"\x89PNG\r\n\x1a\n"


def distances(seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    same = [{"distance": float(d), "same": True, "variant": "full",
             "subjects": (f"p{i}", f"p{i}")} for i, d in enumerate(rng.normal(0.33, 0.05, 40))]
    diff = [{"distance": float(d), "same": False, "variant": v,
             "subjects": (f"p{i % 7}", f"q{i % 5}")}
            for i, (d, v) in enumerate(zip(rng.normal(0.77, 0.13, 60),
                                           ["full", "tight", "card"] * 20, strict=True))]
    return same + diff


def test_far_threshold_is_the_normal_models_quantile():
    different = [0.6, 0.7, 0.8, 0.9, 1.0]
    mean, sd = 0.8, float(np.std(different, ddof=1))
    assert far_threshold(different, 0.01) == pytest.approx(mean - 2.3263 * sd, abs=1e-4)
    assert model_rate(different, far_threshold(different, 0.05), below=True) == \
        pytest.approx(0.05)
    with pytest.raises(ValueError, match="far"):
        far_threshold(different, 1.0)
    with pytest.raises(ValueError, match="two"):
        far_threshold([0.5], 0.01)
    assert rule_of_three(32) == pytest.approx(3 / 32) and rule_of_three(0) == float("inf")


def test_leave_one_out_drops_each_subjects_pairs():
    records = [{"distance": d, "same": False, "subjects": s} for d, s in
               [(0.5, ("a", "b")), (0.9, ("a", "c")), (0.8, ("b", "c")), (0.7, ("c", "d"))]]
    fits = leave_one_out(records, 0.01)
    assert fits["a"] == pytest.approx(far_threshold([0.8, 0.7], 0.01))
    assert "c" not in fits  # only one pair would be left


def test_calibration_report_margins():
    report = calibration_report(distances(), 0.45)
    assert report["independent_different"] == 20
    assert report["margin_different"] == pytest.approx(report["closest_different"] - 0.45)
    assert report["margin_same"] == pytest.approx(0.45 - report["farthest_same"])
    assert report["leave_one_subject_out"]["subjects"] >= 7
    assert calibration_report(distances()[:1], 0.45) == {}


def test_plots_and_report_lines_are_written(tmp_path: Path):
    pairs = {"variants": {name: {"tar": 1.0, "far": 0.0, "same": 40, "different": 60,
                                 "not_compared": 0, "failures": 0}
                          for name in ("full", "tight", "card", "all")},
             "distances": distances(),
             "unreadable": [{"a": "id.jpg", "b": "gone.mp4", "error": "gone.mp4 does not exist"}]}
    pairs["calibration"] = calibration_report(pairs["distances"], 0.45)
    out = io.StringIO()
    _pairs_outputs(pairs, tmp_path, out)
    text = out.getvalue()
    assert "pairs card : TAR 1.000 (40 same), FAR 0.000 (60 different)" in text
    assert "pair NOT EVALUATED id.jpg / gone.mp4: gone.mp4 does not exist\n" in text
    assert "pairs calibration: threshold distance 0.450; refit at FAR 0.01 " in text
    assert "closest different pair" in text and "(margin " in text
    for name in ("pairs_distances.png", "pairs_det.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_plots_without_pairs_of_one_kind(tmp_path: Path):
    only_same = [d for d in distances() if d["same"]]
    assert plot_pair_det(tmp_path / "det.png", only_same, 0.45).read_bytes()[:8] == PNG
    assert plot_pair_distances(tmp_path / "d.png", only_same, 0.45).read_bytes()[:8] == PNG
