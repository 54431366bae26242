"""Generators of the applications' data (markets, fraud, scans, speech, games); data.py registers them.

Each generator is `(n, noise, rng, **options) -> (x, y, extras, info)` with numpy arrays, deterministic
given `rng`; none of them imports the dataset registry, so there is no import cycle.
"""
