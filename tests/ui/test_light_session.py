"""The light check through the kiosk window: the screen paints the sequence after placement,
the painted times (not the drawn ones) reach the analysis and the audit row, no more than
three changes a second, and the accessible check never flashes."""

from __future__ import annotations

from PySide6.QtCore import Qt

from kiosk.analysis.light import LightSequence, Segment
from kiosk.session.light import sequence_detail
from kiosk.vocabulary import FlowState, Stage
from tests.ui.harness import Responder, SyntheticCamera
from tests.ui.test_kiosk_sessions import kiosk, last_attempt, progress_log, run_unattended
from tests.ui.test_light_show import changes_per_second

__all__ = ["kiosk"]  # the fixture, shared


def lit(settings):
    return settings.replace("liveness", light_challenge=True, challenge_count=2)


def test_the_painted_sequence_reaches_the_analysis_and_the_audit_row(qtbot, kiosk, settings,
                                                                     tmp_path):
    settings = lit(settings)
    # Real time: the painted times are on the monotonic clock, as a camera's frames are.
    window, worker, _, _ = kiosk(settings, camera=SyntheticCamera(speed=1.0))
    seen = progress_log(worker)
    painted: list = []
    window.live.light.finished.connect(painted.append)
    assert "The screen changes colour" in window.consent.checked.text()
    run_unattended(qtbot, window)
    stages = [p.stage for _, p in seen]
    # After placement and before the first prompt.
    first_light = stages.index(Stage.LIGHT)
    first_prompt = next(i for i, (_, p) in enumerate(seen) if p.prompt is not None)
    assert first_light < first_prompt
    assert Stage.LIGHT not in stages[first_prompt:]
    drawn = next(p.light for _, p in seen if p.light is not None)
    (colours,) = painted
    assert [c.rgb for c in colours] == [tuple(rgb) for _, _, rgb in drawn]
    assert changes_per_second(colours) <= 3
    shown = LightSequence(tuple(Segment(c.start, c.end, c.rgb) for c in colours))
    stored = last_attempt(tmp_path, settings)
    light = stored.record.signals["light"]
    # The audit row keeps the sequence as painted (its own times, not the drawn ones).
    assert light["details"]["sequence"] == sequence_detail(shown, shown.segments[0].start)
    assert light["details"]["frames_seen"] > 60


def test_the_accessible_check_never_flashes(qtbot, kiosk, settings, tmp_path):
    settings = lit(settings)
    window, worker, _, _ = kiosk(settings, responder=Responder())
    seen = progress_log(worker)
    qtbot.mouseClick(window.idle.accessible, Qt.MouseButton.LeftButton)
    assert window.flow.accessible
    run_unattended(qtbot, window)
    assert window.flow.state == FlowState.RESULT
    assert all(p.stage != Stage.LIGHT and p.light is None for _, p in seen)
    assert "light" not in last_attempt(tmp_path, settings).record.signals
