"""Linear light, input checks, the filming camera and the choice of the frame to print."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.lab.simulate.params import CameraParams

# Display encoding approximated as a pure power law (sRGB is within ~1% of it in mid-tones).
GAMMA = 2.2

# 8-bit code value -> linear light, (256,) float32.
TO_LINEAR = ((np.arange(256, dtype=np.float32) / 255.0) ** GAMMA).astype(np.float32)

# Rec. 709 luma weights in OpenCV's channel order (B, G, R), for linear light.
LUMA_BGR = np.array([0.0722, 0.7152, 0.2126], np.float32)


def to_linear(image: np.ndarray) -> np.ndarray:
    """Decode an 8-bit picture to linear light.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR

    Returns
    -------
    ndarray (H, W, 3) float32 in [0, 1]
    """
    check_image(image, "image")
    return TO_LINEAR[image]


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear light to 8 bits (clipped to [0, 1] first).

    Parameters
    ----------
    linear : ndarray (H, W, 3) float

    Returns
    -------
    ndarray (H, W, 3) uint8
    """
    encoded = np.power(np.clip(linear, 0.0, 1.0, dtype=np.float32), 1.0 / GAMMA)
    return np.rint(encoded * 255.0).astype(np.uint8)


def check_image(image: np.ndarray, name: str) -> None:
    """Raise ValueError naming ``name`` unless ``image`` is (H, W, 3) uint8 of at least 16x16."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3 or min(image.shape[:2]) < 16:
        shape = getattr(image, "shape", None)
        raise ValueError(f"{name} must be (H, W, 3) uint8 of at least 16x16, got {shape} "
                         f"{getattr(image, 'dtype', type(image).__name__)}")


def saturate(linear: np.ndarray, factor: float) -> np.ndarray:
    """Scale the chroma of a linear picture about its luma (0: grey, 1: unchanged).

    Parameters
    ----------
    linear : ndarray (H, W, 3) float32
    factor : float

    Returns
    -------
    ndarray (H, W, 3) float32, clipped to [0, 1]
    """
    luma = (linear @ LUMA_BGR)[:, :, None]
    return np.clip(luma + np.float32(factor) * (linear - luma), 0.0, 1.0)


def camera_capture(scene: np.ndarray, ss: int, params: CameraParams,
                   rng: np.random.Generator) -> np.ndarray:
    """Film a supersampled linear scene: blur, integrate pixels, add noise, encode.

    Parameters
    ----------
    scene : ndarray (H * ss, W * ss, 3) float32, linear light
    ss : int
        Supersampling factor of ``scene``; each output pixel averages an ``ss x ss`` block.
    params : CameraParams
    rng : numpy.random.Generator
        Draws the sensor noise (unused, and may be None, when ``params.noise_sigma`` is 0).

    Returns
    -------
    ndarray (H, W, 3) uint8, BGR
    """
    if scene.ndim != 3 or scene.shape[2] != 3 or ss < 1 or scene.shape[0] % ss \
            or scene.shape[1] % ss:
        raise ValueError(f"scene must be (H*ss, W*ss, 3) with ss={ss}, got {scene.shape}")
    img: np.ndarray = scene * np.float32(params.exposure)
    if params.blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=params.blur_sigma * ss)
    if ss > 1:
        h, w = scene.shape[0] // ss, scene.shape[1] // ss
        # INTER_AREA with an integer factor is the exact ss x ss box mean, and fast.
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    encoded = np.power(np.clip(img, 0.0, 1.0), 1.0 / GAMMA) * 255.0
    if params.noise_sigma > 0:
        # Shot noise: variance proportional to the signal, calibrated at mid-grey.
        sigma = params.noise_sigma * np.sqrt(np.clip(img, 1e-4, 1.0) / 0.2)
        encoded = encoded + sigma * rng.standard_normal(encoded.shape, dtype=np.float32)
    return np.clip(np.rint(encoded), 0, 255).astype(np.uint8)


# Head pose within this many degrees of frontal counts as frontal (what an ID photo shows).
FRONTAL_DEG = 12.0
# Eyes count as open above this fraction of the clip's high (90th percentile) eye opening.
OPEN_EYES = 0.8


def choose_still(sharpness: np.ndarray, yaw: np.ndarray, pitch: np.ndarray,
                 ear: np.ndarray) -> int:
    """Index of the frame to print: the sharpest frontal face with open eyes.

    Parameters
    ----------
    sharpness : ndarray (N,)
        Face-crop sharpness per candidate frame (any monotonic measure).
    yaw, pitch : ndarray (N,)
        Head pose in degrees; NaN where no face was found.
    ear : ndarray (N,)
        Mean eye aspect ratio; NaN where no face was found.

    Returns
    -------
    int
        Index into the arrays. Frames without a face are chosen only if no frame has one
        (then the sharpest frame wins). When no face is within :data:`FRONTAL_DEG`, the most
        frontal ones (within 3 degrees of the best) are used.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in (sharpness, yaw, pitch, ear)]
    n = arrays[0].shape[0] if arrays[0].ndim == 1 else -1
    if n < 1 or any(a.shape != (n,) for a in arrays):
        raise ValueError("sharpness, yaw, pitch and ear must be 1-D arrays of one length >= 1")
    sharp, yaw_a, pitch_a, ear_a = arrays
    face = np.isfinite(yaw_a) & np.isfinite(pitch_a) & np.isfinite(ear_a)
    if not face.any():
        return int(np.argmax(np.where(np.isfinite(sharp), sharp, -np.inf)))
    angle = np.where(face, np.hypot(yaw_a, pitch_a), np.inf)
    ok = angle <= max(FRONTAL_DEG, float(angle.min()) + 3.0)
    open_ = face & (ear_a >= OPEN_EYES * float(np.percentile(ear_a[face], 90)))
    if (ok & open_).any():
        ok &= open_
    return int(np.argmax(np.where(ok, sharp, -np.inf)))

