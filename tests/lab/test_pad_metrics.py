"""ISO/IEC 30107-3 metrics on hand-computed examples."""

from __future__ import annotations

import pytest

from kiosk.lab.pad_metrics import apcer, bpcer, bpcer_at_apcer, det_points, pad_block


def test_apcer_and_bpcer_by_hand():
    # Attacks below the threshold are accepted; bona fide at or above it are rejected.
    assert apcer([0.9, 0.4, 0.7, 0.2], 0.5) == 0.5
    assert bpcer([0.1, 0.5, 0.3, 0.6], 0.5) == 0.5
    assert apcer([], 0.5) is None and bpcer([], 0.5) is None


def test_pad_block_keys_and_values():
    block = pad_block([0.1, 0.2, 0.6, 0.3], {"print": [0.9, 0.8], "replay": [0.7, 0.4, 0.95]},
                      threshold=0.5)
    assert block["threshold"] == 0.5
    assert block["apcer"]["print"] == 0.0
    assert block["apcer"]["replay"] == pytest.approx(1 / 3)
    assert block["apcer"]["mask"] is None and block["apcer"]["unknown"] is None
    assert block["apcer"]["max"] == pytest.approx(1 / 3)
    assert block["bpcer"] == 0.25
    assert block["acer"] == pytest.approx((1 / 3 + 0.25) / 2)
    # To accept no attack at all the threshold must sit at 0.4: then 0.6 is rejected -> 1/4.
    assert block["bpcer_at_apcer_1pct"] == 0.25


def test_bpcer_at_apcer_when_separable_and_when_not():
    assert bpcer_at_apcer([0.1, 0.2], {"print": [0.8, 0.9]}) == 0.0
    # An attack scored below every bona fide forces all bona fide to be rejected.
    assert bpcer_at_apcer([0.3, 0.5], {"print": [0.1, 0.9]}) == 1.0
    assert bpcer_at_apcer([], {"print": [0.1]}) is None


def test_unknown_species_and_bad_scores_are_rejected():
    with pytest.raises(ValueError, match="unknown species"):
        pad_block([0.1], {"deepfake": [0.2]}, 0.5)
    with pytest.raises(ValueError, match="non-finite"):
        apcer([float("nan")], 0.5)


def test_det_points_run_from_all_rejected_to_all_accepted():
    apcers, bpcers = det_points([0.1, 0.4], [0.6, 0.9])
    assert apcers[0] == 0.0 and bpcers[0] == 1.0
    assert apcers[-1] == 1.0 and bpcers[-1] == 0.0
    assert list(apcers) == sorted(apcers) and list(bpcers) == sorted(bpcers, reverse=True)
