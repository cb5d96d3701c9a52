"""Synthetic feeds with injected anomalies and a ground truth (`windowwatch generate`)."""

from __future__ import annotations


def generate(out, scale: str = "small", seed: int = 1, as_of=None, progress: bool = True, rates=None) -> dict:
    """See windowwatch.generate.dataset.generate."""
    from windowwatch.generate.dataset import generate as _generate

    return _generate(out, scale=scale, seed=seed, as_of=as_of, progress=progress, rates=rates)
