"""Liveness fusion: exact arithmetic, monotonicity, missing evidence, stills, loading."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from kiosk.analysis.fusion import FUSION_MODEL, Fusion
from kiosk.analysis.passive import MULTI_FRAME, SINGLE_FRAME
from kiosk.errors import ResourceError
from kiosk.model import Signal
from kiosk.reasons import Reason

REPO = Path(__file__).resolve().parents[2]
NAMES = SINGLE_FRAME + MULTI_FRAME
REASONS = {"texture": "TEXTURE_SUSPECTED", "moire": "SCREEN_SUSPECTED",
           "edges": "DEVICE_EDGES", "glare": "GLARE", "lighting": "LIGHTING_MISMATCH",
           "planar": "PLANAR_FACE", "coupling": "FACE_MOVES_WITH_BACKGROUND",
           "pulse": "NO_PULSE"}


def model(floor: float = 0.0, **changes) -> dict:
    """A small hand-made model: round numbers, so the arithmetic can be checked exactly."""
    weights = {"texture": 2.0, "moire": 4.0, "edges": 6.0, "glare": 4.0, "lighting": 0.0,
               "planar": 4.0, "coupling": 3.0, "pulse": 0.0}
    data = {
        "version": 1,
        "cues": {n: {"reason": REASONS[n], "floor": floor} for n in NAMES},
        "media": {
            "video": {"bias": -3.0, "weights": weights, "min_evidence": 1.0},
            "still": {"bias": -2.0, "weights": {n: weights[n] for n in SINGLE_FRAME},
                      "min_evidence": 0.5},
        },
        "insufficient_probability": 0.5,
        "reason_min_logit": 1.0,
        "provenance": {"script": "test", "data": "none", "date": "2026-01-01", "seed": 0,
                       "metrics": {}},
    }
    data.update(changes)
    return data


def sig(name: str, score: float, confidence: float) -> Signal:
    return Signal(name, score, confidence, REASONS[name], {})


def quiet(still: bool = False) -> list[Signal]:
    """Every cue measured and scoring 0: plenty of evidence, nothing pushing toward attack."""
    names = SINGLE_FRAME if still else NAMES
    return [sig(n, 0.0, 0.5) for n in names]


@pytest.fixture(scope="module")
def shipped() -> Fusion:
    return Fusion.load()


def test_the_score_is_the_logistic_of_the_accumulated_evidence():
    fusion = Fusion(model())
    signals = [s if s.name != "edges" else sig("edges", 1.0, 0.5) for s in quiet()]
    result = fusion.fuse(signals)
    # bias -3 + 6 * 0.5 * 1.0 = 0 -> P = 0.5
    assert result.attack_probability == pytest.approx(0.5)
    assert result.score == pytest.approx(50.0)
    assert result.contributions["edges"] == pytest.approx(3.0)
    assert result.reasons == ("DEVICE_EDGES",)
    assert result.evidence == pytest.approx(0.5 * len(NAMES))
    assert result.still is False
    calm = fusion.fuse(quiet())
    assert calm.attack_probability == pytest.approx(1.0 / (1.0 + math.exp(3.0)))
    assert calm.score == pytest.approx(100.0 * (1.0 - calm.attack_probability))
    assert calm.reasons == ()


def test_scores_count_only_above_the_floor():
    fusion = Fusion(model(floor=0.5))
    base = quiet()

    def with_edges(score):
        return fusion.fuse([s if s.name != "edges" else sig("edges", score, 0.5) for s in base])
    # Below the floor: bona fide noise, no evidence.
    assert with_edges(0.18).attack_probability == fusion.fuse(base).attack_probability
    assert "edges" in with_edges(0.18).contributions  # measured, but contributing 0
    assert with_edges(0.18).contributions["edges"] == 0.0
    # Above it the excess is rescaled to [0, 1]: 0.75 -> 0.5, 1.0 -> 1.0.
    assert with_edges(0.75).contributions["edges"] == pytest.approx(6.0 * 0.5 * 0.5)
    assert with_edges(1.0).contributions["edges"] == pytest.approx(6.0 * 0.5)


def test_reasons_are_the_cues_that_pushed_hardest_strongest_first():
    fusion = Fusion(model())
    signals = quiet()
    signals[NAMES.index("glare")] = sig("glare", 1.0, 0.5)      # +2.0
    signals[NAMES.index("coupling")] = sig("coupling", 0.6, 1.0)  # +1.8
    signals[NAMES.index("texture")] = sig("texture", 0.4, 0.5)   # +0.4: below 1.0, not named
    result = fusion.fuse(signals)
    assert result.reasons == ("GLARE", "FACE_MOVES_WITH_BACKGROUND")
    assert result.attack_probability == pytest.approx(1 / (1 + math.exp(-(-3 + 2 + 1.8 + 0.4))))


def test_same_signals_same_result(shipped):
    rng = np.random.default_rng(3)
    signals = [sig(n, float(rng.random()), float(rng.random())) for n in NAMES]
    first = shipped.fuse(signals)
    again = Fusion.load().fuse(list(signals))
    assert first == again
    assert first.as_dict() == again.as_dict()


def test_raising_any_cue_never_raises_liveness(shipped):
    rng = np.random.default_rng(7)
    for still in (False, True):
        names = SINGLE_FRAME if still else NAMES
        for _ in range(60):
            base = {n: (float(rng.random()), float(rng.random())) for n in names}
            for name in names:
                scores = []
                for s in np.linspace(0.0, 1.0, 11):
                    signals = [sig(n, s if n == name else v[0], v[1])
                               for n, v in base.items()]
                    scores.append(shipped.fuse(signals, still=still).score)
                assert all(b <= a + 1e-9 for a, b in zip(scores, scores[1:], strict=False)), \
                    (still, name, scores)


def test_every_shipped_weight_is_non_negative(shipped):
    for still in (False, True):
        assert all(w >= 0 for w in shipped.weights(still).values())
    assert set(shipped.weights(True)) <= set(SINGLE_FRAME)


def test_a_signal_without_confidence_is_no_evidence_either_way(shipped):
    base = quiet()
    for fusion in (Fusion(model()), shipped):
        reference = fusion.fuse(base)
        for name in NAMES:
            for score in (0.0, 1.0):
                swapped = [s if s.name != name else sig(name, score, 0.0) for s in base]
                result = fusion.fuse(swapped)
                assert name not in result.contributions
                assert result.evidence == pytest.approx(reference.evidence - 0.5)
                dropped = fusion.fuse([s for s in base if s.name != name])
                assert result.attack_probability == dropped.attack_probability


def test_too_little_evidence_fails_with_its_own_reason():
    fusion = Fusion(model())
    nothing = [sig(n, 0.0, 0.0) for n in NAMES]
    result = fusion.fuse(nothing)
    assert result.reasons == (Reason.PASSIVE_INSUFFICIENT,)
    assert result.attack_probability == 0.5 and result.score == 50.0
    assert result.evidence == 0.0
    # 0.9 of evidence is below the video floor of 1.0, above the still floor of 0.5.
    thin = [sig("texture", 0.0, 0.45), sig("edges", 0.0, 0.45)]
    assert Reason.PASSIVE_INSUFFICIENT in fusion.fuse(thin).reasons
    assert Reason.PASSIVE_INSUFFICIENT not in fusion.fuse(thin, still=True).reasons
    # Strong attack evidence keeps its higher probability under the floor.
    strong = [sig("edges", 1.0, 0.5)]
    assert fusion.fuse(strong).attack_probability == pytest.approx(0.5)
    stronger = [sig("edges", 1.0, 0.9)]
    assert fusion.fuse(stronger).attack_probability > 0.5


def test_a_still_uses_the_still_model_and_only_single_frame_cues():
    fusion = Fusion(model())
    signals = quiet() + []
    signals[NAMES.index("planar")] = sig("planar", 1.0, 1.0)
    still = fusion.fuse(signals, still=True)
    video = fusion.fuse(signals)
    assert still.still is True and video.still is False
    assert set(still.ignored) == set(MULTI_FRAME)
    assert "planar" not in still.contributions
    assert still.attack_probability == pytest.approx(1 / (1 + math.exp(2.0)))
    assert video.contributions["planar"] == pytest.approx(4.0)
    assert "PLANAR_FACE" in video.reasons and "PLANAR_FACE" not in still.reasons


def test_unknown_cues_are_ignored_and_listed():
    fusion = Fusion(model())
    result = fusion.fuse(quiet() + [Signal("new_cue", 1.0, 1.0, "NEW", {})])
    assert result.ignored == ("new_cue",)
    assert result.attack_probability == fusion.fuse(quiet()).attack_probability


@pytest.mark.parametrize("bad", [
    [Signal("edges", 1.2, 0.5, "DEVICE_EDGES")],
    [Signal("edges", 0.5, -0.1, "DEVICE_EDGES")],
    [Signal("edges", float("nan"), 0.5, "DEVICE_EDGES")],
    [sig("edges", 0.5, 0.5), sig("edges", 0.1, 0.5)],
])
def test_malformed_signals_are_refused(bad):
    with pytest.raises(ValueError):
        Fusion(model()).fuse(bad)


def test_missing_model_file_is_a_resource_error(tmp_path):
    with pytest.raises(ResourceError, match="cannot be read"):
        Fusion.load(tmp_path / "absent.json")


@pytest.mark.parametrize("text", ["", "{not json", "[]", "\xff\xfe"])
def test_corrupt_model_file_is_a_resource_error(tmp_path, text):
    path = tmp_path / "fusion.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ResourceError, match="fusion model"):
        Fusion.load(path)


def _broken(mutate) -> dict:
    data = copy.deepcopy(model())
    mutate(data)
    return data


@pytest.mark.parametrize("data", [
    _broken(lambda d: d.update(version=2)),
    _broken(lambda d: d["media"]["video"]["weights"].update(edges=-1.0)),
    _broken(lambda d: d["media"]["video"]["weights"].update(unknown=1.0)),
    _broken(lambda d: d["media"]["still"].pop("bias")),
    _broken(lambda d: d["media"]["video"].update(bias="high")),
    _broken(lambda d: d.update(insufficient_probability=1.5)),
    _broken(lambda d: d["provenance"].pop("seed")),
    _broken(lambda d: d.pop("cues")),
    _broken(lambda d: d["cues"].update(edges={"reason": ""})),
    _broken(lambda d: d["cues"].update(edges={"reason": "DEVICE_EDGES", "floor": 1.0})),
    _broken(lambda d: d["cues"].update(edges={"reason": "DEVICE_EDGES"})),
], ids=["version", "negative-weight", "unknown-cue", "no-bias", "text-bias",
        "probability", "provenance", "no-cues", "empty-reason", "floor-1", "no-floor"])
def test_invalid_model_is_a_resource_error(tmp_path, data):
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResourceError, match="invalid"):
        Fusion.load(path)


def test_the_shipped_model_says_where_it_came_from(shipped):
    data = json.loads(FUSION_MODEL.read_text(encoding="utf-8"))
    prov = data["provenance"]
    assert (REPO / prov["script"]).is_file()
    assert prov["data"]["manifest"] == "manifest.csv"
    assert len(prov["data"]["manifest_sha256"]) == 64
    assert isinstance(prov["seed"], int)
    assert len(prov["date"]) == 10 and prov["date"][4] == "-"
    loso = prov["metrics"]["leave_one_subject_out"]
    assert {"real_video", "real_still", "simulated_video"} <= set(loso)
    assert prov["metrics"]["threshold_liveness"] == 90.0
    assert set(data["cues"]) == set(NAMES)
    assert shipped.provenance == prov


def test_the_shipped_model_passes_a_quiet_session_and_rejects_framed_glare(shipped):
    # Physics, not a file: every cue measured with nothing suspicious must pass at 90; a face
    # framed by straight edges with glare across it, both at full confidence, must not.
    assert shipped.fuse(quiet()).score >= 90.0
    loud = [s if s.name not in ("edges", "glare") else sig(s.name, 1.0, 0.5) for s in quiet()]
    assert shipped.fuse(loud).score < 90.0
