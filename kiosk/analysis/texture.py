"""Texture cue: colour LBP and GLCM statistics of the face, compared with live skin.

Physics. A print or a screen is a second imaging step between the face and the camera: it
blurs the finest detail, adds its own structure (halftone dots, paper fibre, sub-pixels) and
squeezes colour into the device's gamut. The change shows in the micro-texture of the colour
channels more than in grey (Boulkenafet, Komulainen and Hadid, "Face spoofing detection using
colour texture analysis", IEEE TIFS 2016): uniform LBP histograms of the luma/chroma (YCbCr)
and hue/saturation/value (HSV) channels of a 64x64 face crop.

Scoring. The developer data cannot support a trained two-class model honestly (a handful of
stills, confounded by capture: see scripts/train_texture.py). The reference is one-class: the
mean LBP histogram of the bona fide stills (resources/models/texture_reference.json, made by
scripts/train_texture.py). The score grows with the chi-square distance of a face's
histograms to that centroid, measured in units of a held-out bona fide still's typical
distance. GLCM statistics (contrast, homogeneity, ...) of the quantised grey crop are reported
in the details; they did not improve the held-out separation and are not in the score.
The confidence is low by design (CONFIDENCE_CAP).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern

from kiosk import resources
from kiosk.analysis.arrays import check_image
from kiosk.analysis.context.regions import check_box, logistic
from kiosk.analysis.context.sampling import SampledAnalyzer, median_of
from kiosk.errors import ResourceError
from kiosk.model import Face, Signal
from kiosk.reasons import Reason
from kiosk.resources import TEXTURE_REFERENCE, shipped_text

log = logging.getLogger(__name__)


PATCH = 64                 # face crop side, as in Boulkenafet et al.
LBP_POINTS = 8
LBP_RADII = (1, 2, 3)
LBP_BINS = LBP_POINTS + 2  # 'uniform' codes 0..P plus one bin for every non-uniform code
CHANNELS = ("Y", "Cr", "Cb", "H", "S", "V")
N_LBP = len(CHANNELS) * len(LBP_RADII) * LBP_BINS
GLCM_LEVELS = 32           # 256 levels cost ~42 ms a crop, 32 levels ~0.8 ms (DESIGN.md)
GLCM_DISTANCES = (1, 2)
GLCM_ANGLES = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)
GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")
N_GLCM = len(GLCM_PROPS) * len(GLCM_DISTANCES)
# OpenCV hue is 0-179 and skin sits on both sides of 0 (reds); rotating by 90 puts skin in the
# middle of the range so LBP does not see the wrap-around as texture.
HUE_SHIFT = 90
# The reference is frontal stills; strongly turned faces show other skin at other angles.
MAX_YAW_DEG = 25.0
# How far the cue can be trusted: a one-class reference of ~13 stills, confounded by camera.
CONFIDENCE_CAP = 0.3


def face_patch(image: np.ndarray, box, size: int = PATCH) -> np.ndarray:
    """The face box resized to ``size`` x ``size`` (area averaging when shrinking).

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
    box : tuple of float
        ``(x0, y0, x1, y1)`` in pixels.

    Returns
    -------
    ndarray (size, size, 3) uint8, BGR
    """
    check_image(image)
    x0, y0, x1, y1 = check_box(box, image.shape)
    h, w = image.shape[:2]
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(round(x1)), w), min(int(round(y1)), h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise ValueError(f"box {box!r} leaves less than 8x8 pixels inside the image")
    crop = image[y0:y1, x0:x1]
    interp = cv2.INTER_AREA if (x1 - x0) > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def _check_patch(patch: np.ndarray) -> np.ndarray:
    if not isinstance(patch, np.ndarray) or patch.ndim != 3 or patch.shape[2] != 3 \
            or patch.dtype != np.uint8 or min(patch.shape[:2]) < 16:
        raise ValueError(f"patch must be an (h, w, 3) uint8 BGR array of at least 16x16, got "
                         f"{getattr(patch, 'shape', None)} {getattr(patch, 'dtype', None)}")
    return patch


def colour_channels(patch: np.ndarray) -> list[np.ndarray]:
    """The six channels Y, Cr, Cb, H (shifted, see HUE_SHIFT), S, V of a BGR patch, uint8."""
    _check_patch(patch)
    ycc = cv2.cvtColor(patch, cv2.COLOR_BGR2YCrCb)
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    hue = ((hsv[..., 0].astype(np.uint16) + HUE_SHIFT) % 180).astype(np.uint8)
    return [ycc[..., 0], ycc[..., 1], ycc[..., 2], hue, hsv[..., 1], hsv[..., 2]]


def lbp_features(patch: np.ndarray) -> np.ndarray:
    """Uniform LBP histograms of the six colour channels at radii 1, 2 and 3.

    Parameters
    ----------
    patch : ndarray (h, w, 3) uint8, BGR
        A face crop (64x64 from :func:`face_patch`). Not modified.

    Returns
    -------
    ndarray (180,) float64
        Channel-major (Y, Cr, Cb, H, S, V), then radius, then the 10 uniform-LBP bins; each
        18 histograms sums to 1 (pixels within the radius of the border are left out).
    """
    out = []
    for chan in colour_channels(patch):
        for r in LBP_RADII:
            codes = local_binary_pattern(chan, LBP_POINTS, r, method="uniform")[r:-r, r:-r]
            hist = np.bincount(codes.astype(np.intp).ravel(), minlength=LBP_BINS)
            out.append(hist / max(codes.size, 1))
    return np.concatenate(out).astype(np.float64)


def glcm_features(patch: np.ndarray, levels: int = GLCM_LEVELS) -> np.ndarray:
    """GLCM statistics of the grey patch quantised to ``levels`` grey levels.

    Parameters
    ----------
    patch : ndarray (h, w, 3) uint8, BGR
    levels : int
        Grey levels after quantisation (a divisor of 256).

    Returns
    -------
    ndarray (12,) float64
        For each of contrast, dissimilarity, homogeneity, energy, correlation and ASM, the
        value at distance 1 then 2, averaged over 0, 45, 90 and 135 degrees (symmetric,
        normalised matrices).
    """
    _check_patch(patch)
    if levels < 2 or 256 % levels:
        raise ValueError(f"levels must divide 256 and be >= 2, got {levels}")
    grey = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY) // (256 // levels)
    glcm = graycomatrix(grey, GLCM_DISTANCES, GLCM_ANGLES, levels=levels, symmetric=True,
                        normed=True)
    return np.concatenate([graycoprops(glcm, p).mean(axis=1) for p in GLCM_PROPS])


def chi2_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chi-square distance ``0.5 * sum((a - b)^2 / (a + b))`` over the last axis."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a and b must share their last axis, got {a.shape} and {b.shape}")
    return 0.5 * np.sum((a - b) ** 2 / (a + b + 1e-10), axis=-1)


@dataclass(frozen=True)
class TextureReference:
    """Live-skin reference for the texture score (see scripts/train_texture.py).

    Attributes
    ----------
    centroid : ndarray (180,)
        Mean LBP histogram vector of the bona fide stills.
    scale : float
        Median chi-square distance of a held-out bona fide still to the centroid of the others.
    midpoint, width : float
        Distance ratio (distance / scale) -> score: logistic(ratio, midpoint, width).
    glcm_range : dict
        Bona fide 10th/90th percentiles of each GLCM statistic, for the operator view.
    meta : dict
        What it was trained on and how it did, as written by the script.
    """

    centroid: np.ndarray
    scale: float
    midpoint: float
    width: float
    glcm_range: dict[str, Any]
    meta: dict[str, Any]

    def ratio(self, lbp: np.ndarray) -> float:
        """Distance of an LBP vector (180,) to the centroid, in units of ``scale``."""
        lbp = np.asarray(lbp, np.float64)
        if lbp.shape != self.centroid.shape:
            raise ValueError(f"lbp must have shape {self.centroid.shape}, got {lbp.shape}")
        return float(chi2_distance(lbp, self.centroid) / self.scale)

    def score(self, ratio: float) -> float:
        return logistic(ratio, self.midpoint, self.width)


def load_texture_reference(path: Path | None = None) -> TextureReference:
    """Read and check the texture reference JSON (the shipped one by default, checked
    against its pinned hash).

    Raises
    ------
    ResourceError
        The file is missing, unreadable, or not a valid reference for these features; the
        shipped one also when it differs from its pin.
    """
    path = TEXTURE_REFERENCE if path is None else path
    try:
        data = json.loads(shipped_text(Path(path), TEXTURE_REFERENCE,
                                           resources.TEXTURE_REFERENCE_SHA256))
    except OSError as exc:
        raise ResourceError(f"texture reference {path} cannot be read ({exc.strerror}); run "
                            "scripts/train_texture.py or reinstall the kiosk") from None
    except json.JSONDecodeError as exc:
        raise ResourceError(f"texture reference {path} is not valid JSON: {exc}") from None
    try:
        feat = data["features"]
        expected = {"patch": PATCH, "lbp_points": LBP_POINTS, "lbp_radii": list(LBP_RADII),
                    "channels": list(CHANNELS), "hue_shift": HUE_SHIFT}
        if any(feat.get(k) != v for k, v in expected.items()):
            raise ValueError(f"features {feat} differ from this code's {expected}")
        centroid = np.asarray(data["centroid"], np.float64)
        scale, midpoint, width = (float(data[k]) for k in ("scale", "midpoint", "width"))
        if centroid.shape != (N_LBP,) or not np.all(np.isfinite(centroid)):
            raise ValueError(f"centroid must be {N_LBP} finite numbers")
        if not (scale > 0 and width > 0 and math.isfinite(midpoint)):
            raise ValueError("scale and width must be positive, midpoint finite")
        glcm_range = dict(data.get("glcm_bona_fide_p10_p90", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ResourceError(f"texture reference {path} is invalid: {exc}") from None
    meta = {k: data[k] for k in ("version", "trained_on", "evaluation") if k in data}
    return TextureReference(centroid, scale, midpoint, width, glcm_range, meta)


def texture_measure(image: np.ndarray, box, reference: TextureReference) -> dict[str, Any]:
    """Texture features of one face and their distance to the live-skin reference.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        The frame (not modified).
    box : tuple of float
        Face box ``(x0, y0, x1, y1)`` in pixels.
    reference : TextureReference

    Returns
    -------
    dict
        ``ratio`` (distance / reference scale) and the GLCM statistics by name with the
        distance as suffix (``contrast_d1``, ``contrast_d2``, ...).
    """
    patch = face_patch(image, box)
    out: dict[str, Any] = {"ratio": reference.ratio(lbp_features(patch))}
    glcm = glcm_features(patch)
    for i, prop in enumerate(GLCM_PROPS):
        for j, d in enumerate(GLCM_DISTANCES):
            out[f"{prop}_d{d}"] = float(glcm[i * len(GLCM_DISTANCES) + j])
    return out


class TextureAnalyzer(SampledAnalyzer):
    """Colour-texture distance of the face to live skin (``texture``).

    Parameters
    ----------
    reference : TextureReference, optional
        Defaults to the shipped one, loaded once here.
    stride, phase, max_samples :
        Frame sampling (:class:`~kiosk.analysis.context.sampling.FrameSampler`).
    min_face_px : float
        Faces narrower than this are skipped (a 64 px patch needs real pixels).
    max_yaw_deg : float
        Frames with a larger head yaw are not measured.

    Raises
    ------
    ResourceError
        The reference file is missing or invalid.

    Signal details: ``ratio`` (median distance ratio, the score's input), ``ratio_min``,
    ``ratio_max``, ``glcm`` (median of each statistic), ``glcm_bona_fide_p10_p90`` (the
    reference's range), ``reference`` ("one-class, bona fide stills"), plus ``frames``,
    ``samples``, ``skipped``, ``sampled_seq``.
    """

    name = "texture"
    reason = Reason.TEXTURE_SUSPECTED
    confidence_cap = CONFIDENCE_CAP

    def __init__(self, reference: TextureReference | None = None, stride: int = 6,
                 phase: int = 0, max_samples: int = 32, min_face_px: float = 64.0,
                 max_yaw_deg: float = MAX_YAW_DEG) -> None:
        self.reference = reference if reference is not None else load_texture_reference()
        self.max_yaw_deg = float(max_yaw_deg)
        super().__init__(stride, phase, max_samples, min_face_px)

    def _ineligible(self, face: Face) -> str:
        return "turned" if math.fabs(face.yaw) > self.max_yaw_deg else ""

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any]:
        return texture_measure(image, face.box, self.reference)

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        ratio = median_of(samples, "ratio")
        ratios = [s["ratio"] for s in samples]
        glcm = {f"{p}_d{d}": round(median_of(samples, f"{p}_d{d}"), 5)
                for p in GLCM_PROPS for d in GLCM_DISTANCES}
        details = {
            "ratio": round(ratio, 4),
            "ratio_min": round(float(min(ratios)), 4),
            "ratio_max": round(float(max(ratios)), 4),
            "glcm": glcm,
            "glcm_bona_fide_p10_p90": self.reference.glcm_range,
            "reference": "one-class, bona fide stills",
        }
        return self._signal(samples, self.reference.score(ratio), details)
