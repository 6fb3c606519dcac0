"""``kiosk match`` holds its live side to one person, as a kiosk session does.

Live frames of two people are refused (exit 2), never combined: a recording of Obama then
Biden passed as Obama through the mean of its descriptors. A live photo with a second face the
kiosk's tracker sees is not compared, as a session does not compare such a frame, even when
the face is too small for the local matcher's own count of comparable faces.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.analysis.face import FaceTracker
from kiosk.cli import main
from kiosk.cloud.detect import HogFaceDetector, comparable_faces
from kiosk.lab.live_frames import live_frames
from kiosk.model import Frame
from tests.cloud.conftest import AGEITGEY, BIDEN, OBAMA, OBAMA2

pytestmark = pytest.mark.data

OBAMA3 = AGEITGEY / "tests" / "test_images" / "obama3.jpg"
WIDTH, HEIGHT, FPS = 640, 480, 15


def fitted(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W, 3) uint8 letterboxed into a (480, 640, 3) camera frame."""
    scale = min(WIDTH / image.shape[1], HEIGHT / image.shape[0])
    small = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    frame = np.full((HEIGHT, WIDTH, 3), 100, np.uint8)
    y, x = (HEIGHT - small.shape[0]) // 2, (WIDTH - small.shape[1]) // 2
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    return frame


def write_video(path: Path, views: list[np.ndarray], frames_each: int = 12) -> Path:
    """An MJPG video showing each view for ``frames_each`` frames, a pixel of sway each."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for view in views:
        for i in range(frames_each):
            writer.write(np.roll(view, i % 3 - 1, axis=1))
    writer.release()
    return path


@pytest.fixture
def obama_then_biden(shared_data: Path, tmp_path: Path) -> Path:
    """Four views of Obama (two photos, each also mirrored), then Biden: the kiosk's
    best-frame choice keeps four frames of Obama and one of Biden."""
    obama = [fitted(cv2.imread(str(shared_data / p))) for p in (OBAMA2, OBAMA3)]
    views = [v for o in obama for v in (o, np.ascontiguousarray(o[:, ::-1]))]
    views.append(fitted(cv2.imread(str(shared_data / BIDEN))))
    return write_video(tmp_path / "obama_then_biden.avi", views)


def test_a_recording_of_two_people_is_refused_not_averaged(shared_data, obama_then_biden,
                                                          environ, local_matcher, capsys):
    reference = cv2.imread(str(shared_data / OBAMA))
    live = live_frames(obama_then_biden)
    # The danger: Biden's frame is far from Obama, yet the mean of the five matches him.
    assert len(live) == 5
    assert not local_matcher.compare_frames(live[-1:], reference).matched
    assert local_matcher.compare_frames(live, reference).matched
    staffed = {**environ, "KIOSK_KIOSK_MODE": "staffed"}  # where that mean passed (exit 0)
    status = main(["match", str(shared_data / OBAMA), str(obama_then_biden), "--matcher",
                   "local"], staffed)
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.startswith("kiosk match: the live side shows more than one person: its 5 best "
                          "frames fall into 2 groups whose faces would not match each other")
    assert "one person's at most 0.450 at this threshold" in err
    # One person's frames are still combined.
    obama = fitted(cv2.imread(str(shared_data / OBAMA2)))
    video = write_video(obama_then_biden.with_name("obama.avi"),
                        [obama, np.ascontiguousarray(obama[:, ::-1])])
    status = main(["match", "--json", str(shared_data / OBAMA), str(video), "--matcher",
                   "local"], staffed)
    payload = json.loads(capsys.readouterr().out)
    assert status == 0 and payload["matched"] and payload["frames"] > 1


def close_up(image: np.ndarray, detector: HogFaceDetector, face_px: int) -> np.ndarray:
    """A (480, 640, 3) frame cut around the face of ``image``, scaled to ``face_px`` wide:
    a person close to the kiosk's camera."""
    box = detector.detect(image)[0]
    scale = face_px / box.width
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, HEIGHT, HEIGHT, WIDTH, WIDTH, cv2.BORDER_REPLICATE)
    x0 = round((box.x0 + box.x1) / 2 * scale + WIDTH / 2)
    y0 = round((box.y0 + box.y1) / 2 * scale + HEIGHT / 2)
    return big[y0:y0 + HEIGHT, x0:x0 + WIDTH].copy()


def with_small_face(frame: np.ndarray, photo: np.ndarray, detector: HogFaceDetector,
                    face_px: int) -> np.ndarray:
    """A copy of ``frame`` with the face of ``photo`` (and a margin of head and shoulders),
    about ``face_px`` wide, in its top-left corner: a small second face."""
    box = detector.detect(photo)[0]
    margin = 0.6 * box.width
    x0, y0 = max(0, int(box.x0 - margin)), max(0, int(box.y0 - margin))
    patch = photo[y0:int(box.y1 + margin), x0:int(box.x1 + margin)]
    scale = face_px / box.width
    patch = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    out = frame.copy()
    h, w = min(patch.shape[0], HEIGHT - 5), min(patch.shape[1], WIDTH - 5)
    out[5:5 + h, 5:5 + w] = patch[:h, :w]
    return out


@pytest.mark.parametrize(("side", "faces"), [(60, 1), (130, 2)])
def test_the_session_and_kiosk_match_count_a_second_face_alike(shared_data, tmp_path, environ,
                                                                detector, capsys, side, faces):
    """A second face under half as wide as the person's (the next person in a queue, a ghost
    portrait) is not counted by the session's tracker nor by the local matcher, and the photo
    is compared; one of comparable size is counted by both, and the photo is not compared."""
    main_face = close_up(cv2.imread(str(shared_data / OBAMA2)), detector, 200)
    frame = with_small_face(main_face, cv2.imread(str(shared_data / BIDEN)), detector, side)
    with FaceTracker() as tracker:
        assert tracker.observe(Frame(image=frame, seq=0, t=0.0, media_t=0.0)).n_faces == faces
    assert comparable_faces(detector.detect(frame)) == faces
    photo = tmp_path / "two_faces.png"
    cv2.imwrite(str(photo), frame)
    status = main(["match", "--json", str(shared_data / OBAMA), str(photo), "--matcher",
                   "local"], {**environ, "KIOSK_KIOSK_MODE": "staffed"})
    payload = json.loads(capsys.readouterr().out)
    if faces == 1:
        assert status == 0 and payload["matched"] and payload["outcome"] == "pass"
        return
    assert status == 1 and payload["outcome"] == "fail"
    assert payload["outcome_reasons"] == ["MATCH_SEVERAL_FACES_LIVE"]
    assert not payload["matched"] and payload["live_faces"] == 2 and payload["frames"] == 0
    assert payload["note"] == ("the kiosk's face tracker finds 2 faces in the live photo; a "
                               "kiosk session compares only a frame with exactly one face")
