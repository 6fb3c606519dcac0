"""The light sequence: drawing, the photosensitivity rules, the JSON file and its errors."""

from __future__ import annotations

import json
import random

import pytest

from kiosk.analysis.light import LightSequence, Segment, draw_sequence, max_changes_per_second
from kiosk.analysis.light import sequence as seqmod
from kiosk.analysis.light.sequence import DARK_RGB, is_saturated_red
from kiosk.errors import InputError


@pytest.mark.parametrize("seed", range(200))
def test_drawn_sequences_follow_every_rule(seed):
    s = draw_sequence(random.Random(seed))
    segs = s.segments
    assert segs[0].start == 0.0 and segs[0].rgb == DARK_RGB and segs[0].duration == 0.5
    colours = segs[1:]
    assert 7 <= len(colours) <= 9
    assert all(0.35 - 1e-9 <= c.duration <= 0.45 + 1e-9 for c in colours)
    assert s.duration <= 3.9 + 1e-9
    assert all(a.end == b.start for a, b in zip(segs, segs[1:], strict=False))
    assert all(a.rgb != b.rgb for a, b in zip(colours, colours[1:], strict=False))
    assert all(c.rgb in seqmod.PALETTE for c in colours)
    reds = [i for i, c in enumerate(colours) if is_saturated_red(c.rgb)]
    assert len(reds) <= 2 and all(b - a >= 3 for a, b in zip(reds, reds[1:], strict=False))
    for ch in range(3):
        assert sum(c.rgb[ch] > 0 for c in colours) >= 2
    assert max_changes_per_second(s) <= 3
    assert s.changes() == list(range(1, len(segs)))


def test_every_palette_colour_and_length_appears_and_draws_differ():
    seen, lengths = set(), set()
    for seed in range(300):
        s = draw_sequence(random.Random(seed))
        seen.update(c.rgb for c in s.segments[1:])
        lengths.add(len(s.segments) - 1)
    assert seen == set(seqmod.PALETTE) and lengths == {7, 8, 9}
    assert draw_sequence() != draw_sequence()       # the system's random source


def test_the_system_random_source_is_used_by_default(monkeypatch):
    calls = []

    class Spy(random.Random):
        def __init__(self):
            super().__init__(5)
            calls.append(1)

    monkeypatch.setattr(seqmod.secrets, "SystemRandom", Spy)
    assert draw_sequence() == draw_sequence(random.Random(5)) and calls == [1]


def test_saturated_red_is_wcag_s():
    assert is_saturated_red((255, 0, 0)) and is_saturated_red((255, 60, 60))
    assert not is_saturated_red((255, 0, 255)) and not is_saturated_red((255, 255, 0))
    assert not is_saturated_red((0, 0, 0))


def test_changes_per_second_counts_every_full_screen_change():
    def seq(*durations, start=0.0):
        segs, t = [], start
        for i, d in enumerate(durations):
            segs.append(Segment(t, t + d, seqmod.PALETTE[i % 3]))
            t += d
        return LightSequence(tuple(segs))

    # Starts at 0, 0.3, 0.6, 0.9 and the return to the interface at 1.2.
    assert max_changes_per_second(seq(0.3, 0.3, 0.3, 0.3)) == 4
    assert max_changes_per_second(seq(0.35, 0.35, 0.35, 0.35)) == 3
    assert max_changes_per_second(seq(0.5, 0.5, 0.5, 0.5)) == 2
    # A gap returns to the interface and back: two changes.
    gap = LightSequence((Segment(0, 0.4, (0, 0, 0)), Segment(0.4, 0.8, (0, 255, 0)),
                         Segment(0.9, 1.3, (0, 0, 255)), Segment(1.3, 1.7, (255, 0, 255))))
    assert max_changes_per_second(gap) == 4
    # For timing, a gap of a wipe's length is a change (timed from the wipe's middle, as the
    # kiosk's window reports every change); a longer one is a pause.
    assert gap.changes() == [1, 2, 3]
    assert gap.change_time(2) == pytest.approx(0.85) and gap.change_time(1) == 0.4
    paused = LightSequence((Segment(0, 0.4, (0, 0, 0)), Segment(0.4, 0.8, (0, 255, 0)),
                            Segment(1.1, 1.5, (0, 0, 255)), Segment(1.5, 1.9, (255, 0, 255))))
    assert paused.changes() == [1, 3]
    # A repeated colour is no change.
    same = LightSequence((Segment(0, 0.2, (0, 0, 0)), Segment(0.2, 0.4, (0, 0, 0)),
                          Segment(0.4, 0.6, (0, 0, 0)), Segment(0.6, 0.8, (0, 0, 0))))
    assert max_changes_per_second(same) == 2
    with pytest.raises(ValueError, match="window_s"):
        max_changes_per_second(same, window_s=0)


def test_json_round_trip_shift_and_duration(tmp_path):
    s = draw_sequence(random.Random(3))
    path = tmp_path / "seq.json"
    path.write_text(s.to_json())
    back = LightSequence.from_json_file(path)
    assert back == s
    assert json.loads(s.to_json())["segments"][0] == {"start": 0.0, "end": 0.5, "rgb": [0, 0, 0]}
    moved = s.shifted(2.25)
    assert moved.start == 2.25 and moved.duration == pytest.approx(s.duration)
    assert [x.rgb for x in moved.segments] == [x.rgb for x in s.segments]
    with pytest.raises(ValueError):
        s.shifted(float("nan"))


def _doc(*segments):
    return {"segments": [dict(start=a, end=b, rgb=c) for a, b, c in segments]}


GOOD = [(0.0, 0.4, [0, 0, 0]), (0.4, 0.8, [0, 255, 0]), (0.8, 1.2, [255, 0, 255]),
        (1.2, 1.6, [0, 0, 255])]


@pytest.mark.parametrize("doc, message", [
    ([], "object"),
    ({"colours": []}, "object"),
    ({"segments": "abc"}, "list"),
    ({"segments": [1, 2, 3, 4]}, "segment 0 must be an object"),
    ({"segments": [{"start": 0, "rgb": [0, 0, 0]}]}, "segment 0 lacks end"),
    (_doc(*GOOD[:3]), "at least 4 segments"),
    (_doc(*GOOD[:3], (1.0, 1.6, [0, 0, 255])), "before segment 2 ends"),
    (_doc(GOOD[1], GOOD[0], *GOOD[2:]), "before segment 0 ends"),
    (_doc(*GOOD[:3], (1.6, 1.2, [0, 0, 255])), "segment 3 ends"),
    (_doc(*GOOD[:3], (1.2, 1.6, [0, 0, 256])), "0..255"),
    (_doc(*GOOD[:3], (1.2, 1.6, [0, 0])), "three numbers"),
    (_doc(*GOOD[:3], (1.2, 1.6, [0, 0, 1.5])), "whole numbers"),
    (_doc(*GOOD[:3], (1.2, "x", [0, 0, 0])), "segment 3 end must be a finite number"),
    (_doc(*GOOD[:3], (1.2, float("inf"), [0, 0, 0])), "finite"),
])
def test_bad_sequences_are_refused_with_the_problem_named(doc, message):
    with pytest.raises(InputError, match=message):
        LightSequence.from_dict(doc)


def test_bad_files_name_the_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        LightSequence.from_json_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"segments": [')
    with pytest.raises(InputError, match=r"broken.json is not JSON: .* line 1"):
        LightSequence.from_json_file(broken)
    short = tmp_path / "short.json"
    short.write_text(json.dumps(_doc(*GOOD[:2])))
    with pytest.raises(InputError, match="short.json: a light sequence needs at least 4"):
        LightSequence.from_json_file(short)
    assert len(LightSequence.from_dict(_doc(*GOOD)).segments) == 4


@pytest.mark.parametrize("doc, message", [
    (_doc((-1, 0.4, [0, 0, 0]), *GOOD[1:]), r"segment 0 start is -1 s: .*never negative"),
    (_doc((-2, -1, [0, 0, 0]), *GOOD[1:]), "segment 0 start is -2 s"),
    (_doc(*GOOD[:3], (1.2, 1.6, [0, 0, 255]), (1.6, -0.5, [0, 0, 0])),
     "segment 4 end is -0.5 s"),
])
def test_a_file_with_negative_times_is_refused(doc, message):
    # A file's times are the recording's media time, which starts at 0: a negative time
    # would be judged against frames that do not exist.
    with pytest.raises(InputError, match=message):
        LightSequence.from_dict(doc)


def test_a_zero_length_segment_is_named_as_such():
    doc = _doc(*GOOD, (1.6, 2.7, [255, 255, 0]), (2.7, 2.7, [0, 255, 255]))
    with pytest.raises(InputError) as refused:
        LightSequence.from_dict(doc)
    assert str(refused.value) == ("segment 5 has no length: it starts and ends at 2.7 s (each "
                                  "segment must end after it starts)")


def test_a_segment_ending_just_before_its_start_shows_two_different_times():
    doc = _doc(*GOOD[:3], (1.2, 1.6, [0, 0, 255]), (2.7000001, 2.7, [0, 0, 0]))
    with pytest.raises(InputError, match=r"segment 4 ends \(2\.7 s\) before it starts "
                                         r"\(2\.7000001 s\)"):
        LightSequence.from_dict(doc)


def test_the_kiosk_clock_may_still_shift_a_sequence_anywhere():
    # Only a file's media time must be >= 0: the constructor takes any time base.
    moved = LightSequence.from_dict(_doc(*GOOD)).shifted(-10.0)
    assert moved.start == -10.0
