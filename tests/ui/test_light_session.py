"""The light check through the kiosk window: the screen paints the sequence after placement,
the painted times (not the drawn ones) reach the analysis and the audit row, no more than
three changes a second, and the accessible check never flashes."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from kiosk.analysis.light import LightSequence, Segment
from kiosk.audit import open_kiosk_log
from kiosk.lab.manifest import read_manifest
from kiosk.runtime.record import RecordPlan
from kiosk.session.light import sequence_detail
from kiosk.ui.app import KioskWindow
from kiosk.vocabulary import FlowState, Stage
from tests.ui.harness import Responder, SyntheticCamera, make_worker
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
    # The movement prompts carry the active check alone: two more of them.
    count = (settings.liveness.accessible_challenge_count
             + settings.liveness.accessible_light_prompts)
    assert {p.total for _, p in seen if p.prompt is not None} == {count} == {4}
    assert "light" not in last_attempt(tmp_path, settings).record.signals


def test_kiosk_record_keeps_what_the_window_painted(qtbot, settings, tmp_path):
    """``kiosk record``'s window: the session's video and the colours as this window painted
    them, in the video's media time, listed for ``kiosk evaluate``."""
    settings = lit(settings)
    plan = RecordPlan(tmp_path / "rec", "bona_fide", subject="staff-1")
    plan.open()
    worker = make_worker(settings, camera=SyntheticCamera(speed=1.0), responder=Responder(),
                         audit_factory=lambda s: open_kiosk_log(s, tmp_path), record=plan)
    window = KioskWindow(settings, worker)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)
    qtbot.addWidget(window)
    window.resize(1024, 768)
    window.show()
    window.start()
    painted: list = []
    window.live.light.finished.connect(painted.append)
    try:
        qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
        run_unattended(qtbot, window)
    finally:
        window.shutdown()
    (row,) = read_manifest(plan.out_dir / "manifest.csv")
    assert row.label == "bona_fide" and row.subject == "staff-1"
    assert (plan.out_dir / row.path).stat().st_size > 0
    sequence = row.light_sequence(plan.out_dir)
    assert sequence is not None
    (colours,) = painted
    assert [s.rgb for s in sequence.segments] == [c.rgb for c in colours]
    # Media time follows the saved frames: each colour lasts as long as it was on screen,
    # within a few frames and the frames the recording dropped (a loaded machine drops some,
    # and a colour then spans fewer of them: 0.118 s of video for 0.231 s on screen).
    painted, media = [c.end - c.start for c in colours], [s.end - s.start
                                                          for s in sequence.segments]
    assert sum(media) == pytest.approx(sum(painted), rel=0.25)  # not wall time, nor half
    dropped = max(0.0, sum(painted) - sum(media))
    assert media == pytest.approx(painted, abs=0.1 + dropped)
