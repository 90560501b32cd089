"""The ABC-SMC perturbation kernel: Gaussian KDE mixed with the prior (imported lazily: pyabc loads slowly)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabc
from pyabc.parameters import Parameter as AbcParameter


class DefensiveTransition(pyabc.MultivariateNormalTransition):
    """Gaussian KDE with a share ``prior_share`` of proposals from the prior; its pdf is the mixture's.

    Every importance weight prior / proposal is then at most 1 / ``prior_share``
    (:func:`sim.experiments.calibration.abc.transition`).
    """

    def __init__(self, prior_dist=None, prior_share: float = 0.2):
        super().__init__()
        self.prior_dist = prior_dist
        self.prior_share = prior_share

    def rvs_single(self):
        """Draw one proposal: from the prior with probability ``prior_share``, else from the KDE."""
        if np.random.uniform() < self.prior_share:  # noqa: NPY002  (the sampler seeds the global generator per task)
            x = self.prior_dist.rvs()
            return AbcParameter({k: float(x[k]) for k in self.X.columns})
        return super().rvs_single()

    def rvs(self, size=None):
        """Draw ``size`` proposals (one as a parameter, several as a frame)."""
        if size is None:
            return self.rvs_single()
        return pd.DataFrame([dict(self.rvs_single()) for _ in range(size)])

    def pdf(self, x):
        """Density of the mixture at ``x`` (a parameter, series or frame)."""
        kde = super().pdf(x)
        if isinstance(x, pd.DataFrame):
            pri = np.array([self.prior_dist.pdf(dict(r)) for _, r in x[self.X.columns].iterrows()])
        else:
            pri = self.prior_dist.pdf({k: x[k] for k in self.X.columns})
        return (1.0 - self.prior_share) * kde + self.prior_share * pri
