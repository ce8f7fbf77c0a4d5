"""A small exact t-SNE (van der Maaten & Hinton, 2008) in numpy, for machines without scikit-learn.

Exact O(n²) gradient, so it is meant for a few thousand points (the figures subsample to at most 3000).
Deterministic for a given seed: PCA initialisation, fixed schedule, no randomness after the start."""

import numpy as np


def _conditional_probabilities(distances, perplexity, steps=64):
    """Row-wise Gaussian affinities whose entropy matches log(perplexity): bisection on each row's precision,
    all rows at once."""
    n = distances.shape[0]
    target = np.log(perplexity)
    distances = distances - np.where(np.eye(n, dtype=bool), np.inf, distances).min(axis=1, keepdims=True)
    off_diagonal = ~np.eye(n, dtype=bool)
    beta = np.ones((n, 1))
    low = np.zeros((n, 1))
    high = np.full((n, 1), np.inf)
    for _ in range(steps):
        weights = np.exp(-distances * beta) * off_diagonal
        total = weights.sum(axis=1, keepdims=True)
        p = weights / total
        entropy = np.log(total[:, 0]) + beta[:, 0] * np.sum(distances * p, axis=1)
        if np.max(np.abs(entropy - target)) < 1e-5:
            break
        too_flat = (entropy > target)[:, None]  # sharpen: raise beta
        low = np.where(too_flat, beta, low)
        high = np.where(too_flat, high, beta)
        beta = np.where(np.isinf(high), beta * 2, (low + high) / 2)
    return p


def _pca(data, components):
    centred = data - data.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:components].T


def tsne(data, perplexity=30.0, iterations=750, seed=0, learning_rate=None):
    """2-D t-SNE of the rows of `data` (float array [n, d])."""
    data = np.asarray(data, dtype=np.float64)
    n = data.shape[0]
    if n < 5:
        return _pca(data, 2) if n > 2 else np.zeros((n, 2))
    perplexity = float(min(perplexity, (n - 1) / 3))
    if data.shape[1] > 50:
        data = _pca(data, 50)
    squared = np.sum(data * data, axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * data @ data.T, 0)
    conditional = _conditional_probabilities(distances, perplexity)
    p = (conditional + conditional.T) / (2 * n)
    p = np.maximum(p, 1e-12)
    np.fill_diagonal(p, 0.0)

    # PCA start scaled to a small spread (as openTSNE and scikit-learn's init="pca" do), tiny seeded jitter.
    rng = np.random.default_rng(seed)
    y = _pca(data, 2)
    y = y / (np.std(y[:, 0]) + 1e-12) * 1e-4 + rng.normal(scale=1e-6, size=y.shape)
    learning_rate = learning_rate or max(n / 12.0 / 4.0, 50.0)
    # float32 and preallocated n×n buffers: the loop is memory-bound.
    p = p.astype(np.float32)
    y = y.astype(np.float32)
    kernel = np.empty((n, n), dtype=np.float32)
    weights = np.empty((n, n), dtype=np.float32)
    velocity = np.zeros_like(y)
    gains = np.ones_like(y)
    exaggeration_steps = min(250, iterations // 3)
    for step in range(iterations):
        exaggeration = 12.0 if step < exaggeration_steps else 1.0
        momentum = 0.5 if step < exaggeration_steps else 0.8
        sq = np.sum(y * y, axis=1)
        np.matmul(y, y.T, out=kernel)
        kernel *= -2.0
        kernel += sq[:, None]
        kernel += sq[None, :]
        np.maximum(kernel, 0.0, out=kernel)
        kernel += 1.0
        np.reciprocal(kernel, out=kernel)  # Student-t kernel 1 / (1 + |yi - yj|²)
        np.fill_diagonal(kernel, 0.0)
        # weights = (exaggeration·P − Q) ∘ kernel, with Q = kernel / sum(kernel)
        np.multiply(kernel, -1.0 / kernel.sum(dtype=np.float64), out=weights)
        weights += p if exaggeration == 1.0 else exaggeration * p
        weights *= kernel
        gradient = 4.0 * (weights.sum(axis=1)[:, None] * y - weights @ y)
        same_sign = np.sign(gradient) == np.sign(velocity)
        gains = np.where(same_sign, gains * 0.8, gains + 0.2).clip(min=0.01).astype(np.float32)
        velocity = (momentum * velocity - learning_rate * gains * gradient).astype(np.float32)
        y = y + velocity
        y = y - y.mean(axis=0)
    return y.astype(np.float64)
