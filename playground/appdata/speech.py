"""Spoken vowels by formant synthesis: a glottal pulse train through three resonators, as a spectrogram.

Each sample has its own pitch and "speaker" (a vocal-tract length that scales every formant), so the
net must find the formant pattern, not one voice. The waveform is kept for playback.
"""

from __future__ import annotations

import numpy as np

RATE = 8000  # Hz: enough for the first three formants
SECONDS = 0.25
VOWELS = ["a", "e", "i", "o", "u"]
FORMANTS = {  # Hz, adult male averages (Peterson & Barney, 1952)
    "a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010),
    "o": (570, 840, 2410), "u": (300, 870, 2240),
}
BANDWIDTHS = (90, 110, 170)
N_FFT, HOP, BINS = 128, 64, 32


def vowel(formants, pitch: float, rng: np.random.Generator) -> np.ndarray:
    """One vowel's waveform in [-1, 1]: a jittered pulse train at `pitch` through the formant filters."""
    from scipy.signal import lfilter  # scipy comes with scikit-learn

    n = int(RATE * SECONDS)
    source = np.zeros(n)
    t = rng.uniform(0, RATE / pitch)
    while t < n:
        source[int(t)] = 1.0
        t += RATE / pitch * rng.uniform(0.97, 1.03)
    wave = source
    for f, bw in zip(formants, BANDWIDTHS, strict=True):  # two-pole resonators in cascade
        r = np.exp(-np.pi * bw / RATE)
        wave = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / RATE), r * r], wave)
    wave = np.diff(wave, prepend=0.0)  # lip radiation lifts the high formants
    return wave / (np.abs(wave).max() + 1e-9)


def spectrogram(wave: np.ndarray) -> np.ndarray:
    """Log-magnitude spectrogram (BINS frequency rows × frames), scaled to about [0, 1]."""
    frames = np.lib.stride_tricks.sliding_window_view(wave, N_FFT)[::HOP] * np.hanning(N_FFT)
    mag = np.abs(np.fft.rfft(frames, axis=1))[:, 1:]  # (frames, 64): drop the DC bin
    mag = mag.reshape(len(frames), BINS, -1).mean(2)  # pool to BINS rows of 125 Hz
    db = 20 * np.log10(mag + 1e-4)
    return np.clip((db - db.max() + 60) / 60, 0, 1).T[::-1].copy()  # low frequencies at the bottom


def vowel_spectrograms(n: int, noise: float, rng: np.random.Generator, pitch_low: float, pitch_high: float) -> tuple:
    """`n` spoken vowels (classes in turn): spectrograms (n, 1, BINS, frames) and waveforms (n, samples)."""
    y = (np.arange(n) % len(VOWELS)).astype(np.int64)
    waves = np.zeros((n, int(RATE * SECONDS)), np.float32)
    for i in range(n):
        speaker = rng.uniform(0.8, 1.3)  # shorter vocal tracts raise every formant
        formants = [f * speaker * rng.uniform(0.92, 1.08) for f in FORMANTS[VOWELS[y[i]]]]
        w = vowel(formants, rng.uniform(pitch_low, pitch_high), rng)
        waves[i] = np.clip(w + rng.normal(0, 1, w.shape) * noise * 0.3, -1, 1)
    x = np.stack([spectrogram(w) for w in waves])[:, None].astype(np.float32)
    info = {"class_names": VOWELS, "n_classes": len(VOWELS), "sample_rate": RATE}
    return x, y, {"wave": waves}, info
