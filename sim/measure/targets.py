"""Calibration targets and their measurement designs, loaded from ``calibration/targets.toml``.

A measurement design is data: which rows make up the metric (:class:`Metric`), who is in the
cohort and from which index date the windows run (:class:`Cohort`), and which reported
figure it is compared with (:class:`Target`). The objects refuse unknown fields, so a typo in
the file fails loudly with the file and the field (:class:`sim.config.ScenarioError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config.loader import ScenarioError, format_validation_error, read_toml
from sim.config.paths import bundled
from sim.config.scenario import Stratum
from sim.domain.events import DETAILS, KINDS

DEFAULT_BAND_HALF_WIDTH = 0.05  #: reported ± this when the source gives no range
Paradigm = Literal["intervention", "person"]
Days = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class Strict(BaseModel):
    """Frozen, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(Strict):
    """Which event-log rows a metric adds up, and how a row is placed in time.

    ``spread``:

    * ``point``: the row counts whole at its ``time`` (a contact);
    * ``interval``: the quantity is spread uniformly over ``[time, time + duration)`` and a
      window gets the overlapping part (accrued routine volume, short-term stays); rows with
      duration 0 count at ``time``;
    * ``stay``: bed-days are spread over the days actually in a bed, ``[end - quantity, end)``
      with ``end = time + duration`` (the wait for a bed is not a bed-day).
    """

    kind: str
    value: Literal["quantity", "count"] = "quantity"
    flag: Literal["avoidable", "readmission"] | None = Field(
        default=None, description="keep only rows with this flag set"
    )
    details: list[str] = Field(default_factory=list, description="keep only rows with these details")
    exclude_details: list[str] = Field(default_factory=list)
    spread: Literal["point", "interval", "stay"] = "point"
    unit: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _vocabulary(self) -> Metric:
        if self.kind not in KINDS:
            raise ValueError(f"kind: unknown event kind {self.kind!r}")
        for d in (*self.details, *self.exclude_details):
            if d not in DETAILS:
                raise ValueError(f"details: unknown detail {d!r}")
        return self


IndexKind = str  # an event kind, or "discharge" (end of a non-censored admission, alive)


class ControlCohort(Strict):
    """Comparable index events in a world or period without the concept (historical control)."""

    index: IndexKind
    paradigm: Paradigm = "intervention"
    period_years: tuple[float, float] = Field(description="index dates, years after the warm-up")
    strata: list[Stratum] = Field(default_factory=list, description="stratum at the index row")
    first_only: bool = False


class Cohort(Strict):
    """Who is measured, from which index date, over which windows, compared with what.

    ``comparison``:

    * ``before_after``: the cohort's total over ``after_days`` from the index date against its
      total over ``before_days`` before it (SKA, RON-2, Mobil närvård);
    * ``control``: the cohort's mean per index over ``after_days`` against the mean of a
      comparable control cohort over the same window (RON-1, RON-3: "comparable patients
      before the team existed").
    """

    description: str = ""
    index: IndexKind = Field(description="event kind whose rows make a person a member; its time is the index date")
    paradigm: Paradigm = Field(default="person", description="run the naive figure is measured on")
    period_years: tuple[float, float] = Field(description="index dates in [a, b) years after the warm-up")
    first_only: bool = Field(default=True, description="per unique individual: the first index in the period")
    strata: list[Stratum] = Field(default_factory=list, description="stratum at the index row (empty: all)")
    before_days: Days = 0.0
    after_days: Days
    comparison: Literal["before_after", "control"] = "before_after"
    control: ControlCohort | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Cohort:
        for name, idx in (("index", self.index), ("control.index", self.control.index if self.control else None)):
            if idx is not None and idx != "discharge" and idx not in KINDS:
                raise ValueError(f"{name}: unknown event kind {idx!r} (or 'discharge')")
        if self.period_years[1] <= self.period_years[0]:
            raise ValueError("period_years: the end must be after the start")
        if self.after_days <= 0:
            raise ValueError("after_days: must be > 0")
        if self.comparison == "before_after" and self.before_days <= 0:
            raise ValueError("before_days: must be > 0 for comparison 'before_after'")
        if self.comparison == "control" and self.control is None:
            raise ValueError("control: required for comparison 'control'")
        if self.comparison == "before_after" and self.control is not None:
            raise ValueError("control: only for comparison 'control'")
        return self


class Target(Strict):
    """A reported figure and the design (or summary metric) that reproduces it.

    Either ``cohort`` + ``metric`` (a measurement design; the statistic is the relative change,
    as a fraction: -0.92 for -92 %) or ``summary_metric`` + ``paradigm`` (a per-replication
    summary metric such as ``mobile_team_caseload``). Without ``reported`` the design is
    computed and shown but is not a target.
    """

    description: str
    source: str = ""
    quote: str = ""
    reported: float | None = None
    band: tuple[float, float] | None = Field(
        default=None, description="the source's own range; default reported ± 0.05"
    )
    cohort: str | None = None
    metric: str | None = None
    statistic: Literal["relative_change"] = "relative_change"
    summary_metric: str | None = None
    paradigm: Paradigm = "person"
    weight: Annotated[float, Field(ge=0.0)] = Field(
        default=1.0, description="weight in the calibration loss; 0 = reported only"
    )
    scale: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="loss scale (documented noise scale of the naive figure); default half the band width"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        design = self.cohort is not None or self.metric is not None
        if design and self.summary_metric is not None:
            raise ValueError("give either cohort + metric or summary_metric, not both")
        if not design and self.summary_metric is None:
            raise ValueError("give cohort + metric (a design) or summary_metric")
        if design and (self.cohort is None or self.metric is None):
            raise ValueError("a design needs both cohort and metric")
        if self.band is not None and self.band[1] < self.band[0]:
            raise ValueError("band: the upper end must not be below the lower end")
        if self.band is not None and self.reported is None:
            raise ValueError("band: needs a reported figure")
        return self

    @property
    def is_design(self) -> bool:
        """A cohort design (not a summary metric)."""
        return self.cohort is not None

    def band_or_default(self) -> tuple[float, float]:
        """Return the band: the source's range, else reported ± 0.05; NaNs without a figure."""
        if self.reported is None:
            return (float("nan"), float("nan"))
        if self.band is not None:
            return self.band
        return (self.reported - DEFAULT_BAND_HALF_WIDTH, self.reported + DEFAULT_BAND_HALF_WIDTH)

    def loss_scale(self) -> float:
        """Return the scale of the calibration loss (a miss of one scale outside the band costs 1).

        ``scale`` if given (the target's documented noise scale), else half the band width.
        """
        if self.scale is not None:
            return self.scale
        lo, hi = self.band_or_default()
        return max((hi - lo) / 2.0, 1e-9)


class Parameter(Strict):
    """A free parameter: a dotted scenario path, its range (the search range and the prior) and its source."""

    low: float
    high: float
    log: bool = False
    source: str = Field(default="", description="why this range: the prior's source or reason (ABC-SMC: uniform on it)")

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if self.high <= self.low:
            raise ValueError("high must be above low")
        if self.log and self.low <= 0:
            raise ValueError("log: low must be > 0")
        return self


class Calibration(Strict):
    """How ``narvard calibrate`` searches (defaults; the command line overrides)."""

    scenario: str = Field(description="scenario file the fit starts from, relative to this file")
    budget: Annotated[int, Field(ge=1)] = 60
    replications_per_trial: Annotated[int, Field(ge=1)] = 2
    final_replications: Annotated[int, Field(ge=2)] = 5
    seed: int = 0
    fitted: str = "fitted.toml"
    storage: str = "optuna.sqlite3"
    study_name: str = "narvard"
    identifiability_delta: Annotated[float, Field(gt=0.0)] = Field(
        default=1.0,
        description="loss above the best that still counts as fitting (identifiability and profile)",
    )
    parameters: dict[str, Parameter]


class TargetFile(Strict):
    """The whole ``targets.toml``."""

    metrics: dict[str, Metric]
    cohorts: dict[str, Cohort]
    targets: dict[str, Target]
    calibration: Calibration | None = None

    @model_validator(mode="after")
    def _references(self) -> TargetFile:
        for tid, t in self.targets.items():
            if t.cohort is not None and t.cohort not in self.cohorts:
                raise ValueError(f"targets.{tid}.cohort: no cohort {t.cohort!r} in [cohorts]")
            if t.metric is not None and t.metric not in self.metrics:
                raise ValueError(f"targets.{tid}.metric: no metric {t.metric!r} in [metrics]")
        return self


def default_targets() -> Path:
    """``calibration/targets.toml`` of the installed project, wherever the command runs."""
    return bundled("calibration/targets.toml")


def load_targets(path: Path | str) -> TargetFile:
    """Load and validate a targets file; errors name the file and the field."""
    path = Path(path)
    data = read_toml(path)
    try:
        return TargetFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(path, format_validation_error(exc, TargetFile)) from None
