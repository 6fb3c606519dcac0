"""Fitting the fusion: evidence both ways, constrained weights, balance; its report; its cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kiosk.lab.fusion_data import cached, code_digest
from kiosk.lab.fusion_fit import balanced_weights, evidence_matrices, fit_fusion
from kiosk.lab.fusion_report import auc, blocks, distribution, format_blocks

NAMES = ("edges", "flicker", "expression")


def test_evidence_matrices_split_attack_and_life():
    signals = [[{"name": "edges", "score": 1.0, "confidence": 0.5},
                {"name": "expression", "score": 0.0, "confidence": 0.8},
                {"name": "unknown", "score": 1.0, "confidence": 1.0}],
               [{"name": "expression", "score": 0.9, "confidence": 1.0}]]
    attack, life = evidence_matrices(signals, NAMES, dict.fromkeys(NAMES, 0.5),
                                     {"edges": None, "flicker": None, "expression": 0.5})
    assert attack.tolist() == [[0.5, 0.0, 0.0], [0.0, 0.0, 0.8]]
    assert life.tolist() == [[0.0, 0.0, 0.8], [0.0, 0.0, 0.0]]


def test_balanced_weights_give_each_class_half():
    w = balanced_weights(np.array([0, 0, 0, 1]))
    assert w.tolist() == pytest.approx([4 / 6, 4 / 6, 4 / 6, 2.0])
    assert balanced_weights(np.array([1, 1])).tolist() == [0.0, 0.0]


def synthetic(n: int = 80, seed: int = 0):
    """Bona fide show life (expression) and no edges; attacks show edges; flicker is noise."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(int)
    attack = np.zeros((n, 3))
    life = np.zeros((n, 3))
    attack[:, 0] = np.where(y == 1, rng.uniform(0.3, 1.0, n), rng.uniform(0.0, 0.1, n))
    attack[:, 1] = rng.uniform(0.0, 0.2, n)
    life[:, 2] = np.where(y == 0, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.3, n))
    return attack, life, y


def test_the_fit_learns_both_sides_and_keeps_non_life_cues_at_zero():
    attack, life, y = synthetic()
    model = fit_fusion(attack, life, y, NAMES, life_cues=("expression",), prior_sd=5.0)
    assert model.weights[0] > 2.0 and model.life_weights[2] > 1.0
    assert (model.weights >= 0).all() and (model.life_weights >= 0).all()
    assert model.life_weights[0] == 0.0 and model.life_weights[1] == 0.0
    p = model.probability(attack, life)
    assert auc(p, y) > 0.95
    # A tight prior shrinks every weight toward 0.
    tight = fit_fusion(attack, life, y, NAMES, life_cues=("expression",), prior_sd=0.1)
    assert tight.weights[0] < model.weights[0] and tight.life_weights[2] < 0.5
    with pytest.raises(ValueError, match="life_cues"):
        fit_fusion(attack, life, y, NAMES, life_cues=("pulse",), prior_sd=5.0)
    with pytest.raises(ValueError, match="prior_sd"):
        fit_fusion(attack, life, y, NAMES, life_cues=(), prior_sd=0.0)


def test_the_fit_is_deterministic():
    attack, life, y = synthetic(seed=3)
    a = fit_fusion(attack, life, y, NAMES, life_cues=("expression",), prior_sd=5.0)
    b = fit_fusion(attack, life, y, NAMES, life_cues=("expression",), prior_sd=5.0)
    assert a.bias == b.bias and np.array_equal(a.weights, b.weights)


def test_auc_and_distributions():
    assert auc(np.array([0.1, 0.2, 0.9]), np.array([0, 0, 1])) == 1.0
    assert auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert auc(np.array([0.5]), np.array([0])) is None
    d = distribution(np.array([0.0, 0.1, 0.5]))
    assert d is not None and d["n"] == 3 and d["distinct"] == 3
    assert d["liveness_percentiles"]["0"] == 50.0 and d["liveness_percentiles"]["100"] == 100.0
    assert distribution(np.array([])) is None


def test_blocks_keep_real_and_simulated_apart():
    def item(label, species="", sim=False):
        return {"row": {"label": label, "species": species}, "simulated": sim}
    items = [item("bona_fide"), item("bona_fide"), item("attack", "replay"),
             item("attack", "print", sim=True)]
    p = np.array([0.02, 0.3, 0.95, 0.05])
    b = blocks(items, p, 0.1)
    real, sim = b["real_video"], b["simulated_video"]
    assert real["n"] == {"bona_fide": 2, "attack": 1} and sim["n"] == {"bona_fide": 2,
                                                                        "attack": 1}
    assert real["apcer"]["replay"] == 0.0 and real["bpcer"] == 0.5 and real["auc"] == 1.0
    assert sim["apcer"]["print"] == 1.0 and sim["auc"] == 0.5
    assert real["distribution"]["replay"]["n"] == 1
    text = format_blocks("t", b)
    assert "real_video" in text and "liveness bona_fide" in text


def test_the_cache_digest_ignores_comments_and_docstrings(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    f = src / "a.py"
    f.write_text('"""Doc."""\nX = 1  # one\n\n\ndef g():\n    """Doc."""\n    return X\n')
    before = code_digest(tmp_path, ("pkg",))
    f.write_text('"""Other words."""\n# a comment\nX = 1\n\n\ndef g():\n    return X\n')
    assert code_digest(tmp_path, ("pkg",)) == before
    f.write_text('"""Doc."""\nX = 2\n\n\ndef g():\n    return X\n')
    assert code_digest(tmp_path, ("pkg",)) != before
    calls = []

    def compute():
        calls.append(1)
        return {"value": 3}
    key = {"code": before, "path": "x"}
    assert cached(tmp_path / "cache", key, compute)["value"] == 3
    assert cached(tmp_path / "cache", key, compute)["value"] == 3
    assert calls == [1]
    stored = json.loads(next((tmp_path / "cache").glob("*.json")).read_text())
    assert stored["key"] == key


def test_a_cue_the_data_cannot_judge_keeps_its_prior_mean():
    attack, life, y = synthetic()
    attack[:, 1] = 0.0          # no presentation shows any flicker evidence
    model = fit_fusion(attack, life, y, NAMES, life_cues=("expression",), prior_sd=5.0,
                       attack_mean=2.2)
    assert model.weights[1] == pytest.approx(2.2, abs=1e-4)
    centred = fit_fusion(attack, life, y, NAMES, life_cues=("expression",), prior_sd=5.0)
    assert centred.weights[1] == pytest.approx(0.0, abs=1e-6)
    assert model.life_weights[0] == 0.0   # the prior mean never gives a cue a life side
