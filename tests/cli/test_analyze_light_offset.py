"""``kiosk analyze --light-offset``: refused where it would be ignored, kept with ``--light
random``."""

from __future__ import annotations

import json

import pytest

from kiosk.analysis.light import draw_sequence
from kiosk.cli import main
from tests.cli.test_light_commands import faceless, run  # noqa: F401  (fixture by import)


def test_light_offset_without_light_is_an_error(capsys, faceless):  # noqa: F811
    status, out, err = run(capsys, "analyze", str(faceless), "--light-offset", "3")
    assert status == 2 and out == ""
    assert err == ("kiosk analyze: --light-offset needs --light: it places a sequence drawn "
                   "now (--light random) after the first frame\n")


def test_light_offset_with_a_sequence_file_is_an_error(capsys, faceless, tmp_path):  # noqa: F811
    sequence = tmp_path / "seq.json"
    sequence.write_text(draw_sequence().to_json())
    status, _, err = run(capsys, "analyze", str(faceless), "--light", str(sequence),
                         "--light-offset", "0.5")
    assert status == 2 and "--light-offset needs --light random" in err


def test_the_offset_given_or_not_places_a_random_sequence(capsys, faceless):  # noqa: F811
    for extra, offset in (([], 1.0), (["--light-offset", "1"], 1.0),
                          (["--light-offset", "0.25"], 0.25)):
        status = main(["analyze", str(faceless), "--json", "--light", "random", *extra],
                      environ={})
        light = json.loads(capsys.readouterr().out)["light"]
        assert status == 0 and light["offset_s"] == offset
        assert light["sequence"]["segments"][0]["start"] == offset


def test_an_offset_beyond_a_day_is_refused_by_name(capsys, faceless):  # noqa: F811
    # Before: "segment 0 has no length: it starts and ends at 1e+308 s".
    for text in ("1e308", "86400"):
        with pytest.raises(SystemExit) as exit_:
            main(["analyze", str(faceless), "--light", "random", "--light-offset", text],
                 environ={})
        out, err = capsys.readouterr()
        assert exit_.value.code == 2 and out == ""
        assert f"argument --light-offset: '{text}' is not a number >= 0 and < 86400" in err
