"""Grouping the fusion's presentations for held-out figures (kiosk.lab.fusion_data)."""

from __future__ import annotations

import pytest

from kiosk.lab.fusion_data import source_groups


def test_a_source_and_every_person_in_it_are_held_out_together():
    paths = ["VendorReal/a/live.mp4", "VendorReplay/b/replay.mp4", "Other/clip.mp4",
             "simulated/print/seed-7/Other/clip.mp4", "Third/x.mp4", "Third/y.mp4"]
    groups = ["ann", "ann", "bob", "bob", "cy", "dee"]
    # Ann's replays live in another repository of the vendor: one group with her live video.
    assert source_groups(paths, groups) == [
        "VendorReal", "VendorReal", "Other", "Other", "Third", "Third"]


def test_a_person_seen_in_two_sources_joins_them():
    assert source_groups(["A/1.mp4", "B/2.mp4", "C/3.mp4"], ["p", "p", "q"]) == ["A", "A", "C"]


def test_paths_and_groups_must_pair_up():
    with pytest.raises(ValueError, match="2 paths but 1 groups"):
        source_groups(["A/1.mp4", "B/2.mp4"], ["p"])
