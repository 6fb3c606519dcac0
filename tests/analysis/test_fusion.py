"""Liveness fusion: exact arithmetic both ways, monotonicity, missing evidence, stills, loading."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from kiosk.analysis.fusion import FUSION_MODEL, Fusion, cue_evidence, life_evidence
from kiosk.analysis.passive import MULTI_FRAME, SINGLE_FRAME
from kiosk.errors import ResourceError
from kiosk.model import Signal
from kiosk.reasons import CATALOGUE, Reason, suggests_attack

REPO = Path(__file__).resolve().parents[2]
NAMES = SINGLE_FRAME + MULTI_FRAME
LIFE = ("texture", "planar", "pulse", "expression", "rigid_smile")
REASONS = {"texture": "TEXTURE_SUSPECTED", "moire": "SCREEN_SUSPECTED",
           "edges": "DEVICE_EDGES", "glare": "GLARE", "lighting": "LIGHTING_MISMATCH",
           "display": "DISPLAY_COLOUR",
           "planar": "PLANAR_FACE", "coupling": "FACE_MOVES_WITH_BACKGROUND",
           "pulse": "NO_PULSE", "flicker": "SCREEN_FLICKER", "reflection": "SCREEN_REFLECTION",
           "expression": "NO_EXPRESSION", "rigid_smile": "RIGID_SMILE"}


def model(floor: float = 0.0, life_below: float = 0.5, **changes) -> dict:
    """A small hand-made model: round numbers, so the arithmetic can be checked exactly."""
    weights = dict.fromkeys(NAMES, 0.0) | {"texture": 2.0, "moire": 4.0, "edges": 6.0,
                                           "glare": 4.0, "planar": 4.0, "coupling": 3.0,
                                           "flicker": 5.0}
    data = {
        "version": 2,
        "cues": {n: {"reason": REASONS[n], "floor": floor,
                     "life_below": life_below if n in LIFE else None} for n in NAMES},
        "video": {"bias": 1.0, "weights": weights,
                  "life_weights": {"expression": 4.0, "planar": 2.0},
                  "min_evidence": 1.0},
        "insufficient_probability": 0.5,
        "reason_min_logit": 1.0,
        "provenance": {"script": "test", "data": "none", "date": "2026-01-01", "seed": 0,
                       "metrics": {}},
    }
    data.update(changes)
    return data


def sig(name: str, score: float, confidence: float) -> Signal:
    return Signal(name, score, confidence, REASONS[name], {})


def quiet(score: float = 0.5) -> list[Signal]:
    """Every cue measured at its decision point: plenty of evidence, none either way."""
    return [sig(n, score, 0.5) for n in NAMES]


def with_(signals: list[Signal], **changes: tuple[float, float]) -> list[Signal]:
    return [sig(s.name, *changes[s.name]) if s.name in changes else s for s in signals]


@pytest.fixture(scope="module")
def shipped() -> Fusion:
    return Fusion.load()


def test_evidence_both_ways():
    assert cue_evidence(0.75, 0.5, 0.5) == pytest.approx(0.25)
    assert cue_evidence(0.3, 1.0, 0.5) == 0.0
    assert life_evidence(0.0, 0.8, 0.5) == pytest.approx(0.8)
    assert life_evidence(0.25, 1.0, 0.5) == pytest.approx(0.5)
    assert life_evidence(0.6, 1.0, 0.5) == 0.0
    assert life_evidence(0.0, 1.0, None) == 0.0


def test_the_score_is_the_logistic_of_evidence_for_and_against():
    fusion = Fusion(model(floor=0.5))
    # bias 1; edges 6 * 0.5 * (1.0 - 0.5) / 0.5 = +3; expression 4 * 0.5 * (0.5 - 0) / 0.5 = -2
    signals = with_(quiet(), edges=(1.0, 0.5), expression=(0.0, 0.5))
    result = fusion.fuse(signals)
    assert result.attack_probability == pytest.approx(1 / (1 + math.exp(-(1 + 3 - 2))))
    assert result.score == pytest.approx(100 * (1 - result.attack_probability))
    assert result.contributions["edges"] == pytest.approx(3.0)
    assert result.contributions["expression"] == pytest.approx(-2.0)
    assert result.life == {"expression": pytest.approx(2.0)}
    assert result.reasons == ("DEVICE_EDGES",)
    assert result.evidence == pytest.approx(0.5 * len(NAMES))
    assert result.still is False and result.refused is False


def test_life_evidence_earns_confidence_and_its_absence_is_named():
    fusion = Fusion(model(floor=0.5))
    flat = fusion.fuse(quiet())
    assert flat.attack_probability == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert Reason.LIFE_UNSEEN in flat.reasons
    alive = fusion.fuse(with_(quiet(), expression=(0.0, 1.0), planar=(0.0, 1.0)))
    # 1 - 4 * 1 - 2 * 1 = -5
    assert alive.attack_probability == pytest.approx(1 / (1 + math.exp(5.0)))
    assert alive.score > 99.0 and alive.reasons == ()
    assert set(alive.life) == {"expression", "planar"}


def test_a_cue_without_a_life_side_never_vouches_for_life():
    fusion = Fusion(model(floor=0.5))
    base = fusion.fuse(quiet())
    for name in ("moire", "edges", "glare", "coupling", "flicker", "reflection", "display"):
        silent = fusion.fuse(with_(quiet(), **{name: (0.0, 1.0)}))
        assert silent.attack_probability == pytest.approx(base.attack_probability), name
        assert name not in silent.life


def test_raising_any_cue_never_raises_liveness(shipped):
    rng = np.random.default_rng(7)
    for fusion in (Fusion(model(floor=0.5)), shipped):
        for _ in range(30):
            base = {n: (float(rng.random()), float(rng.random())) for n in NAMES}
            for name in NAMES:
                scores = []
                for s in np.linspace(0.0, 1.0, 11):
                    signals = [sig(n, s if n == name else v[0], v[1]) for n, v in base.items()]
                    scores.append(fusion.fuse(signals).score)
                assert all(b <= a + 1e-9 for a, b in zip(scores, scores[1:], strict=False)), \
                    (name, scores)


def test_every_shipped_weight_is_non_negative_and_life_only_where_allowed(shipped):
    assert all(w >= 0 for w in shipped.weights().values())
    assert all(v >= 0 for v in shipped.life_weights().values())
    for name in shipped.life_weights():
        assert shipped.cues[name].life_below is not None
    # Every passive cue, and the session's light challenge (weights stated, not fitted).
    assert set(shipped.weights()) == set(NAMES) | {"light"}
    assert shipped.life_weights()["light"] == pytest.approx(math.log(9.0), abs=1e-3)


def test_same_signals_same_result(shipped):
    rng = np.random.default_rng(3)
    signals = [sig(n, float(rng.random()), float(rng.random())) for n in NAMES]
    first = shipped.fuse(signals)
    again = Fusion.load().fuse(list(signals))
    assert first == again
    assert first.as_dict() == again.as_dict()


def test_a_signal_without_confidence_is_no_evidence_either_way(shipped):
    base = quiet(0.2)
    for fusion in (Fusion(model(floor=0.5)), shipped):
        reference = fusion.fuse(base)
        for name in NAMES:
            for score in (0.0, 1.0):
                swapped = with_(base, **{name: (score, 0.0)})
                result = fusion.fuse(swapped)
                assert name not in result.contributions
                assert result.evidence == pytest.approx(reference.evidence - 0.5)
                dropped = fusion.fuse([s for s in base if s.name != name])
                assert result.attack_probability == dropped.attack_probability


def test_too_little_evidence_fails_with_its_own_reason():
    fusion = Fusion(model())
    nothing = [sig(n, 0.0, 0.0) for n in NAMES]
    result = fusion.fuse(nothing)
    assert Reason.PASSIVE_INSUFFICIENT in result.reasons
    assert result.attack_probability >= 0.5 and result.score <= 50.0
    assert result.evidence == 0.0
    thin = [sig("expression", 0.0, 0.45), sig("planar", 0.0, 0.45)]
    assert Reason.PASSIVE_INSUFFICIENT in fusion.fuse(thin).reasons
    assert fusion.fuse(thin).attack_probability == pytest.approx(0.5)
    stronger = [sig("edges", 1.0, 0.9)]
    assert fusion.fuse(stronger).attack_probability > 0.5


def test_a_still_is_refused_whatever_its_cues_say():
    fusion = Fusion(model())
    signals = [sig(n, 0.0, 1.0) for n in SINGLE_FRAME]
    result = fusion.fuse(signals, still=True)
    assert result.refused is True and result.still is True
    assert result.reasons == (Reason.SINGLE_IMAGE,)
    assert result.score == 0.0 and result.attack_probability == 1.0
    assert set(result.ignored) == set(SINGLE_FRAME) and result.contributions == {}
    info = CATALOGUE[Reason.SINGLE_IMAGE]
    assert info.attack is False and "single image" in info.staff


def test_a_capture_too_slow_to_show_life_is_refused_but_keeps_its_attack_cues():
    fusion = Fusion(model())
    alive = with_(quiet(0.0), expression=(0.0, 1.0), planar=(0.0, 1.0))
    judged = fusion.fuse(alive, frame_rate=30.0)
    assert not judged.refused and judged.score > 90.0 and judged.frame_rate == 30.0
    at_ten = fusion.fuse(alive, frame_rate=10.0)  # 10 a second is judged, the same way
    assert not at_ten.refused and (at_ten.score, at_ten.reasons) == (judged.score, judged.reasons)
    slow = fusion.fuse(alive, frame_rate=8.0)
    assert slow.refused and not slow.still and slow.score == 0.0
    assert slow.reasons == (Reason.CAPTURE_TOO_SLOW,)  # its life is not vouched for either
    assert not suggests_attack(slow.reasons) and CATALOGUE[Reason.CAPTURE_TOO_SLOW].person
    # A bezel seen at 5 frames a second is still a bezel: named, and an attack for the lockout
    # (its push, 6 log-odds, is a likelihood ratio over 9 on its own) ...
    framed = fusion.fuse(with_(alive, edges=(1.0, 1.0), glare=(0.4, 1.0)), frame_rate=5.0)
    assert framed.contributions["glare"] == pytest.approx(1.6)
    assert framed.refused and framed.reasons == (Reason.CAPTURE_TOO_SLOW, "DEVICE_EDGES")
    assert suggests_attack(framed.reasons)
    # ... but a push under ln 9 (glare at 1.6 here, named when a judged session fails) is no
    # attack by itself, and a slow camera's fault must not read as one.
    dim = fusion.fuse(with_(alive, glare=(0.4, 1.0)), frame_rate=5.0)
    assert dim.reasons == (Reason.CAPTURE_TOO_SLOW,)
    assert "GLARE" in fusion.fuse(with_(quiet(0.0), glare=(0.4, 1.0))).reasons
    # Unknown rate (too few frames to measure one): judged, the evidence floor decides.
    assert not fusion.fuse(alive, frame_rate=None).refused


def test_the_cues_that_are_an_attack_on_their_own_are_named_apart():
    """``strong``: the cues that pushed by ln 9 or more, strongest first, judged or not (a
    session cut short counts only these); a smaller push is a reason, not one of them."""
    fusion = Fusion(model())
    pushed = with_(quiet(0.0), edges=(1.0, 1.0), flicker=(1.0, 0.5), glare=(0.4, 1.0))
    judged = fusion.fuse(pushed, frame_rate=30.0)
    assert judged.reasons[:3] == ("DEVICE_EDGES", "SCREEN_FLICKER", "GLARE")
    assert judged.strong == ("DEVICE_EDGES", "SCREEN_FLICKER")  # 6 and 2.5 >= ln 9 > 1.6
    assert fusion.fuse(pushed, frame_rate=5.0).strong == judged.strong
    assert fusion.fuse(quiet(0.0)).strong == ()


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
    with pytest.raises(ValueError):
        Fusion(model()).fuse(bad, still=True)


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
    _broken(lambda d: d.update(version=1)),
    _broken(lambda d: d["video"]["weights"].update(edges=-1.0)),
    _broken(lambda d: d["video"]["weights"].update(unknown=1.0)),
    _broken(lambda d: d["video"]["life_weights"].update(edges=1.0)),
    _broken(lambda d: d["video"]["life_weights"].update(expression=-0.5)),
    _broken(lambda d: d["video"].pop("bias")),
    _broken(lambda d: d["video"].update(bias="high")),
    _broken(lambda d: d.update(insufficient_probability=1.5)),
    _broken(lambda d: d["provenance"].pop("seed")),
    _broken(lambda d: d.pop("cues")),
    _broken(lambda d: d["cues"].update(edges={"reason": ""})),
    _broken(lambda d: d["cues"].update(edges={"reason": "DEVICE_EDGES", "floor": 1.0})),
    _broken(lambda d: d["cues"].update(edges={"reason": "DEVICE_EDGES"})),
    _broken(lambda d: d["cues"]["planar"].update(life_below=0.0)),
], ids=["version", "negative-weight", "unknown-cue", "life-without-life-side",
        "negative-life-weight", "no-bias", "text-bias", "probability", "provenance",
        "no-cues", "empty-reason", "floor-1", "no-floor", "life-below-0"])
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
    assert {"real_video", "simulated_video"} <= set(loso)
    for block in loso.values():
        assert {"auc", "distribution", "apcer", "bpcer"} <= set(block)
    assert prov["metrics"]["threshold_liveness"] == 90.0
    # The passive cues are fitted; the light challenge's weights are stated, and say so.
    assert set(data["cues"]) == set(NAMES) | {"light"}
    assert "stated" in prov["stated"]["light"]
    for name in data["cues"]:
        assert data["cues"][name]["reason"] in CATALOGUE


@pytest.mark.data
def test_the_shipped_model_was_fit_on_the_developer_set_as_it_is(shared_data):
    """The manifest hash it records is the manifest's: a developer set that grew (or changed a
    label) since the fit makes its figures stale, and this says so."""
    import hashlib

    prov = json.loads(FUSION_MODEL.read_text(encoding="utf-8"))["provenance"]
    manifest = (shared_data / "manifest.csv").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == prov["data"]["manifest_sha256"], \
        "the developer manifest changed since the fusion was fit: run scripts/train_fusion.py"


def test_the_shipped_model_needs_life_and_rejects_a_framed_flickering_face(shipped):
    # Physics, not a file: every attack cue quiet and the face deforming and turning as a live
    # head does must pass at 90; the same with a bezel closed around the face and the picture
    # flickering must not; and nothing either way is not a pass.
    alive = [sig(n, 0.0, 0.8 if n in ("expression", "planar") else 0.5) for n in NAMES]
    assert shipped.fuse(alive).score >= 90.0
    loud = with_(alive, edges=(1.0, 0.5), flicker=(1.0, 0.8))
    assert shipped.fuse(loud).score < 90.0
    silent = [sig(n, 0.5, 0.5) for n in NAMES]
    assert shipped.fuse(silent).score < shipped.fuse(alive).score
