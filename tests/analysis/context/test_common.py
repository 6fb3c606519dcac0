"""Shared helpers of the single-frame analyzer tests, and tests of regions and sampling.

The helpers build a synthetic face (an image and a 478-point mesh whose outline, eyes, nose
and brows sit where the analyzers look for them) so each cue can be tested where the answer
is known, without the data set or the tracker.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.analysis.arrays import check_grey, check_image
from kiosk.analysis.context.regions import (
    check_box,
    check_landmarks,
    expand_box,
    hull_mask,
    logistic,
    pad_box,
)
from kiosk.analysis.context.sampling import FrameSampler, sample_confidence
from kiosk.analysis.geometry import LEFT_EYE, NOSE_TIP, RIGHT_EYE, landmark_box
from kiosk.model import Face, FaceObservation, Frame

SF = "minivision-ai_Silent-Face-Anti-Spoofing/images/sample/"
JM = "jomariya23156_face-recognition-with-liveness-web-login/face_recognition_and_liveness/" \
     "face_liveness_detection/"
TVL_REAL = "tranvanluyt2203_face_anti_spoofing/videos/real.mp4"
TVL_FAKE = "tranvanluyt2203_face_anti_spoofing/videos/fake.mp4"
MK_FAKE = "Manikantha-M_Face-Liveness-detection-using-Deeplearning-and-OpenCV/videos/fake.mp4"

# Upper/lower eyebrow contour points of MediaPipe's mesh, image-left brow then image-right.
BROW_UPPER = ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336))
BROW_LOWER = ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285))
SKIN_BGR = (120, 150, 200)


def synthetic_mesh(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    """A (478, 3) mesh: outline on an ellipse, eyes, nose tip and brows at face positions."""
    t = np.linspace(0.0, 2.0 * np.pi, 478, endpoint=False)
    mesh = np.stack([cx + w / 2 * np.cos(t), cy + h / 2 * np.sin(t), np.zeros_like(t)], 1)
    ex, ey, ew = 0.2 * w, cy - 0.1 * h, 0.12 * w
    # Subject's right eye is image-left (unmirrored frame).
    for idx, sx in ((RIGHT_EYE, -1.0), (LEFT_EYE, 1.0)):
        outer, up1, up2, inner, lo1, lo2 = idx
        ecx = cx + sx * ex
        mesh[outer, :2] = (ecx + sx * ew, ey)
        mesh[inner, :2] = (ecx - sx * ew, ey)
        mesh[up1, :2] = (ecx + sx * ew / 3, ey - 0.02 * h)
        mesh[up2, :2] = (ecx - sx * ew / 3, ey - 0.02 * h)
        mesh[lo1, :2] = (ecx - sx * ew / 3, ey + 0.02 * h)
        mesh[lo2, :2] = (ecx + sx * ew / 3, ey + 0.02 * h)
    mesh[NOSE_TIP, :2] = (cx, cy + 0.08 * h)
    for side, sx in ((0, -1.0), (1, 1.0)):
        for j, (up, lo) in enumerate(zip(BROW_UPPER[side], BROW_LOWER[side], strict=True)):
            bx = cx + sx * (0.35 - 0.06 * j) * w
            mesh[up, :2] = (bx, cy - 0.22 * h)
            mesh[lo, :2] = (bx, cy - 0.19 * h)
    return mesh.astype(np.float32)


def synthetic_face(shape=(480, 640), centre=(320, 240), size=(160, 210), background=110,
                   seed=0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth face-like BGR image and its mesh: skin ellipse, eyes, brows, mouth, noise."""
    rng = np.random.default_rng(seed)
    h, w = shape
    cx, cy = centre
    fw, fh = size
    img = np.full((h, w, 3), background, np.float32)
    face = np.zeros((h, w), np.float32)
    cv2.ellipse(face, (cx, cy), (fw // 2, fh // 2), 0, 0, 360, 1.0, -1)
    face = cv2.GaussianBlur(face, (0, 0), 2.0)[..., None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 1.0 - 0.15 * ((xx - cx) ** 2 / (fw / 2) ** 2 + (yy - cy) ** 2 / (fh / 2) ** 2)
    img = img * (1 - face) + np.float32(SKIN_BGR) * shade[..., None] * face
    mesh = synthetic_mesh(cx, cy, fw, fh)
    for eye in (RIGHT_EYE, LEFT_EYE):
        c = mesh[list(eye), :2].mean(0)
        cv2.ellipse(img, (int(c[0]), int(c[1])), (int(0.08 * fw), int(0.03 * fh)), 0, 0, 360,
                    (40, 40, 50), -1)
    for side in (0, 1):
        pts = (mesh[list(BROW_UPPER[side]), :2] + mesh[list(BROW_LOWER[side]), :2]) / 2
        cv2.polylines(img, [pts.astype(np.int32)], False, (30, 35, 45), max(2, fh // 40))
    cv2.ellipse(img, (cx, int(cy + 0.28 * fh)), (int(0.18 * fw), int(0.04 * fh)), 0, 0, 360,
                (60, 60, 160), -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.0) + rng.normal(0, 2.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), mesh


def make_face(mesh: np.ndarray, shape: tuple[int, int], yaw: float = 0.0) -> Face:
    """A Face around a mesh (only the fields the single-frame analyzers read are meaningful)."""
    box = landmark_box(mesh, shape)
    return Face(box=box, landmarks=mesh, blendshapes={}, yaw=yaw, pitch=0.0, roll=0.0,
                ear_left=0.3, ear_right=0.3, mouth_width=1.0, mouth_open=0.0, sharpness=100.0,
                brightness=128.0, exposure=0.0, size=(box[2] - box[0]) / shape[1],
                interocular=float(np.linalg.norm(mesh[263, :2] - mesh[33, :2])),
                matrix=np.eye(4, dtype=np.float32))


def observe(image: np.ndarray, face: Face | None, seq: int = 0) -> tuple[Frame, FaceObservation]:
    frame = Frame(image, seq, seq / 30.0, seq / 30.0)
    obs = FaceObservation(seq=seq, t=frame.t, media_t=frame.media_t,
                          frame_shape=frame.shape, n_faces=int(face is not None), face=face)
    return frame, obs


def track_still(path: Path) -> tuple[np.ndarray, FaceObservation]:
    """Read a still and track it with a fresh tracker (VIDEO mode, one frame at t = 0)."""
    from kiosk.analysis.face import FaceTracker

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    with FaceTracker() as tracker:
        obs = tracker.observe(Frame(image, 0, 0.0, 0.0))
    assert obs.face is not None, f"no face tracked in {path}"
    return image, obs


def run_still(analyzer, image: np.ndarray, obs: FaceObservation):
    analyzer.reset()
    analyzer.update(Frame(image, 0, 0.0, 0.0), obs)
    return analyzer.result()


def run_clip(analyzers, shared_data: Path, relpath: str, observations) -> dict:
    """Feed a clip's frames (decoded again) and its tracked observations to the analyzers."""
    from kiosk.camera import open_source

    for a in analyzers:
        a.reset()
    by_seq = {o.seq: o for o in observations}
    with open_source(str(shared_data / relpath), paced=False) as source:
        for frame in source:
            obs = by_seq.get(frame.seq)
            if obs is not None:
                for a in analyzers:
                    a.update(frame, obs)
    return {a.name: a.result() for a in analyzers}


# -- regions ----------------------------------------------------------------------------------

def test_checks_name_the_argument():
    with pytest.raises(ValueError, match="^frame must be"):
        check_image(np.zeros((10, 10), np.uint8), "frame")
    with pytest.raises(ValueError, match="image must be an"):
        check_image(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="at least 8x8"):
        check_image(np.zeros((4, 40, 3), np.uint8))
    with pytest.raises(ValueError, match="grey must be"):
        check_grey(np.zeros((10, 10, 3), np.uint8), "grey")
    with pytest.raises(ValueError, match="box must be four numbers"):
        check_box((1, 2, 3), (100, 100))
    with pytest.raises(ValueError, match="x0 < x1"):
        check_box((50, 10, 40, 60), (100, 100))
    with pytest.raises(ValueError, match="outside"):
        check_box((200, 10, 240, 60), (100, 100))
    with pytest.raises(ValueError, match="landmarks must have shape"):
        check_landmarks(np.zeros((478,)))


def test_box_growth_is_clipped_and_centred():
    assert expand_box((40, 40, 60, 60), 2.0, (100, 100)) == (30, 30, 70, 70)
    assert expand_box((0, 0, 20, 20), 3.0, (100, 100)) == (0, 0, 40, 40)
    assert pad_box((10, 20, 30, 40), 5, (35, 200)) == (5, 15, 35, 35)


def test_hull_mask_covers_the_outline():
    mesh = synthetic_mesh(50, 50, 40, 60)
    mask = hull_mask(mesh, (100, 100))
    assert mask[50, 50] == 1 and mask[5, 5] == 0
    # Filled polygons include their boundary pixels: a few percent above the ellipse area.
    assert np.pi * 20 * 30 <= mask.sum() < 1.1 * np.pi * 20 * 30
    half = hull_mask(mesh, (50, 50), offset=(0, 0), scale=0.5)
    assert abs(half.sum() - mask.sum() / 4) < 0.1 * mask.sum() / 4


def test_logistic():
    assert logistic(3.0, 3.0, 1.0) == pytest.approx(0.5)
    assert logistic(4.0, 3.0, 1.0) == pytest.approx(1 / (1 + np.exp(-1)))
    assert logistic(1e9, 0.0, 1.0) == pytest.approx(1.0)


# -- sampling ---------------------------------------------------------------------------------

def test_sampler_measures_the_first_frame_then_every_stride_at_its_phase():
    s = FrameSampler(stride=5, phase=2)
    due = [k for k in range(16) if s.due()]
    assert due == [0, 2, 7, 12]
    s.reset()
    assert s.due() is True


def test_sampler_thins_a_full_list_and_doubles_its_stride():
    s = FrameSampler(stride=3, phase=0, max_samples=4)
    assert s.thin([1, 2, 3, 4]) == [1, 2, 3, 4] and s.stride == 3
    assert s.thin([1, 2, 3, 4, 5]) == [1, 3, 5] and s.stride == 6
    with pytest.raises(ValueError, match="stride"):
        FrameSampler(stride=0)


def test_sample_confidence_grows_with_samples_to_its_cap():
    assert sample_confidence(0, 0.6) == 0.0
    assert sample_confidence(1, 0.6) == pytest.approx(0.3)
    assert sample_confidence(3, 0.6) == pytest.approx(0.45)
    assert sample_confidence(50, 0.6) == pytest.approx(0.6)


def test_synthetic_face_helpers_agree():
    img, mesh = synthetic_face()
    face = make_face(mesh, img.shape[:2])
    assert img.shape == (480, 640, 3) and img.dtype == np.uint8
    assert face.box == pytest.approx((240, 135, 400, 345), abs=1.0)
    # Skin inside, background outside.
    assert img[240, 320, 2] > 150 and abs(int(img[20, 20, 0]) - 110) < 10
