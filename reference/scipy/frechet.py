"""The Fréchet distance as pytorch-fid computes it (numpy + scipy.linalg.sqrtm), for the Reference tests.

Usage: frechet.py IN.json OUT.json. IN holds two feature sets {"a": [[...], ...], "b": [[...], ...]}; OUT gets
{"fd": ..., "trace_sqrt_product": tr(sqrtm(S1 S2)), "sqrt_a": sqrtm(S1), "mean_a": ..., "cov_a": ...}, all float64.
"""
import json
import sys

import numpy as np
import scipy
from scipy import linalg


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """pytorch-fid's calculate_frechet_distance without its eps retry (the test matrices are well conditioned)."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean, tr_covmean


def main():
    with open(sys.argv[1]) as f:
        case = json.load(f)
    a = np.asarray(case["a"], dtype=np.float64)
    b = np.asarray(case["b"], dtype=np.float64)
    mu1, sigma1 = a.mean(axis=0), np.cov(a, rowvar=False)
    mu2, sigma2 = b.mean(axis=0), np.cov(b, rowvar=False)
    fd, tr = frechet_distance(mu1, sigma1, mu2, sigma2)
    sqrt_a = linalg.sqrtm(sigma1).real
    out = {"fd": float(fd), "trace_sqrt_product": float(tr), "sqrt_a": sqrt_a.tolist(),
           "mean_a": mu1.tolist(), "cov_a": sigma1.tolist(), "scipy": scipy.__version__}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
