"""Remote photoplethysmography: the pulse in the colour of skin, by the POS method.

Pure functions over traces of mean skin colour. Each heartbeat changes the blood volume under
the skin and with it, slightly, the skin's colour (mostly green against red and blue). POS,
the "plane orthogonal to skin" projection of Wang, den Brinker, Stuijk and de Haan
("Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017), removes the intensity changes
common to all channels (light, motion) and keeps that colour change.
"""

from __future__ import annotations

import numpy as np

# POS projection onto the plane orthogonal to the skin tone (Wang et al. 2017, eq. 8).
_POS = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
# POS sliding window: 1.6 s holds at least one cardiac cycle at 40 bpm (Wang et al. 2017).
POS_WINDOW_S = 1.6
# Heart-rate band asked by the issue: 0.7-3 Hz (42-180 bpm).
BAND_HZ = (0.7, 3.0)
# SNR of de Haan and Jeanne ("Robust pulse rate from chrominance-based rPPG", IEEE TBME 60(10),
# 2013): power within 0.1 Hz of the peak and 0.2 Hz of its first harmonic against the rest of
# the band, here 0.7-4 Hz (capped below the Nyquist frequency).
PEAK_HALF_WIDTH_HZ = 0.1
HARMONIC_HALF_WIDTH_HZ = 0.2
NOISE_BAND_TOP_HZ = 4.0
# Spectra are zero-padded to this bin width so the peak's position is read finely.
BIN_HZ = 0.01


def _check_rgb(rgb: np.ndarray, name: str = "rgb") -> np.ndarray:
    arr = np.asarray(rgb, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds non-finite values")
    if (arr <= 0).any():
        raise ValueError(f"{name} must be positive mean intensities")
    return arr


def _check_fps(fps: float) -> float:
    if not np.isfinite(fps) or fps <= 2 * BAND_HZ[0]:
        raise ValueError(f"fps must be a finite rate above {2 * BAND_HZ[0]} Hz, got {fps}")
    return float(fps)


def pos_signal(rgb: np.ndarray, fps: float, window_s: float = POS_WINDOW_S) -> np.ndarray:
    """Pulse signal of one skin region by POS (overlap-added over sliding windows).

    Parameters
    ----------
    rgb : ndarray (N, 3)
        Mean red, green, blue of the skin region per frame, sampled uniformly at ``fps``
        (positive values).
    fps : float
        Sampling rate in Hz.
    window_s : float
        POS window length in seconds.

    Returns
    -------
    ndarray (N,) float64
        The pulse signal, zero mean (all zeros when N is shorter than one window).
    """
    c = _check_rgb(rgb)
    fps = _check_fps(fps)
    n = c.shape[0]
    w = max(2, int(round(window_s * fps)))
    out = np.zeros(n)
    if n < w:
        return out
    # All windows at once: (n - w + 1, 3, w).
    win = np.lib.stride_tricks.sliding_window_view(c, w, axis=0)
    norm = win / win.mean(axis=2, keepdims=True)
    s = np.einsum("ij,kjl->kil", _POS, norm)  # (windows, 2, w)
    sd = s.std(axis=2)
    alpha = np.divide(sd[:, 0], sd[:, 1], out=np.zeros_like(sd[:, 0]), where=sd[:, 1] > 0)
    h = s[:, 0, :] + alpha[:, None] * s[:, 1, :]
    h -= h.mean(axis=1, keepdims=True)
    for k in range(h.shape[0]):  # overlap-add, Wang et al. 2017 algorithm 1
        out[k:k + w] += h[k]
    return out - out.mean()


def pulse_spectrum(signal: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrum of a pulse signal (Hann window, zero-padded).

    Parameters
    ----------
    signal : ndarray (N,)
        Uniformly sampled at ``fps``.
    fps : float

    Returns
    -------
    freqs : ndarray (M,)
        Frequencies in Hz, from 0 to fps / 2.
    power : ndarray (M,)
        Power at each frequency (arbitrary units).
    """
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1 or x.size < 4:
        raise ValueError(f"signal must have shape (N,) with N >= 4, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("signal holds non-finite values")
    fps = _check_fps(fps)
    x = (x - x.mean()) * np.hanning(x.size)
    nfft = max(x.size, int(2 ** np.ceil(np.log2(fps / BIN_HZ))))
    power = np.abs(np.fft.rfft(x, nfft)) ** 2
    return np.fft.rfftfreq(nfft, 1.0 / fps), power


def spectral_peak(freqs: np.ndarray, power: np.ndarray,
                  band: tuple[float, float] = BAND_HZ) -> tuple[float, float]:
    """Strongest frequency in the heart-rate band and its SNR.

    Parameters
    ----------
    freqs, power : ndarray (M,)
        A spectrum as returned by :func:`pulse_spectrum`.
    band : tuple of float
        Where the peak is looked for, Hz.

    Returns
    -------
    peak_hz : float
        Frequency of the strongest bin in ``band``.
    snr_db : float
        de Haan's SNR in dB: power within 0.1 Hz of the peak and 0.2 Hz of its harmonic against
        the rest of 0.7-4 Hz. ``-inf`` for a flat zero spectrum.
    """
    f = np.asarray(freqs, dtype=np.float64)
    p = np.asarray(power, dtype=np.float64)
    if f.ndim != 1 or f.shape != p.shape:
        raise ValueError(f"freqs and power must be (M,) of equal length, got {f.shape} and "
                         f"{p.shape}")
    top = min(NOISE_BAND_TOP_HZ, 0.95 * f[-1])
    in_band = (f >= band[0]) & (f <= min(band[1], top))
    if not in_band.any():
        raise ValueError(f"freqs do not reach the band {band} Hz")
    idx = np.flatnonzero(in_band)
    # Only a local maximum is a peak: a spectrum that merely rises toward the band's edge
    # (slow drifts of light or pose leaking in) has its largest in-band value at the edge.
    inner = idx[(idx > 0) & (idx < f.size - 1)]
    local = inner[(p[inner] >= p[inner - 1]) & (p[inner] >= p[inner + 1])]
    if local.size == 0:
        return float(f[idx[np.argmax(p[idx])]]), float("-inf")
    peak = float(f[local[np.argmax(p[local])]])
    scope = (f >= band[0]) & (f <= top)
    signal = scope & ((np.abs(f - peak) <= PEAK_HALF_WIDTH_HZ)
                      | (np.abs(f - 2 * peak) <= HARMONIC_HALF_WIDTH_HZ))
    s, n = p[signal].sum(), p[scope & ~signal].sum()
    if s <= 0:
        return peak, float("-inf")
    if n <= 0:
        return peak, float("inf")
    return peak, float(10.0 * np.log10(s / n))


def pos_pulse(rgb_traces: np.ndarray, fps: float) -> tuple[float, float]:
    """Pulse rate and its SNR from one or several skin regions.

    Each region's POS signal gives a spectrum normalised to unit power in the band; the
    spectra are averaged, so a pulse common to all regions adds up while noise, which differs
    between regions, does not.

    Parameters
    ----------
    rgb_traces : ndarray (N, 3) or (K, N, 3)
        Mean red, green, blue per frame of one region, or of K regions, sampled uniformly.
    fps : float
        Sampling rate in Hz.

    Returns
    -------
    bpm : float
        Beats per minute at the strongest peak within 0.7-3 Hz.
    snr_db : float
        de Haan's SNR of that peak in dB.
    """
    arr = np.asarray(rgb_traces, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"rgb_traces must have shape (N, 3) or (K, N, 3), got "
                         f"{np.asarray(rgb_traces).shape}")
    freqs, total = np.zeros(0), np.zeros(0)
    for i, region in enumerate(arr):
        freqs, power = pulse_spectrum(pos_signal(region, fps), fps)
        band = (freqs >= BAND_HZ[0]) & (freqs <= NOISE_BAND_TOP_HZ)
        norm = power[band].sum()
        power = power / norm if norm > 0 else power
        total = power if i == 0 else total + power
    peak, snr = spectral_peak(freqs, total)
    return 60.0 * peak, snr
