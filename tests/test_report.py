"""Functional: `narvard report` from a real compare run: every section filled, one offline file."""

import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments.executor import Executor
from sim.experiments.pipeline import simulate_to_folder
from sim.output.results import ResultsError
from tests.conftest import DEFAULT, ROOT, small_scenario

FILLED = ("headline", "over-time", "person", "costs", "calibration", "staffed", "uncertainty", "assumptions",
          "methods")
LATER = ("rollout",)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "res"
    s = small_scenario(persons=3000, years=1.5, replications=2)
    simulate_to_folder(s, ("intervention", "person"), out, False, Executor(), str(DEFAULT), command="compare")
    return out


@pytest.fixture(scope="module")
def report(compared):
    from sim.report.build import write_report

    path = write_report(compared, ROOT / "calibration")
    return path.read_text(encoding="utf-8")


def _section(html: str, key: str) -> str:
    start = html.index(f"<section id='{key}'>")
    return html[start:html.index("</section>", start)]


def test_every_present_section_is_filled_and_later_ones_say_what_they_lack(report):
    for key in FILLED:
        part = _section(report, key)
        assert "not available yet" not in part, key
    for key in ("headline", "over-time", "person", "costs", "calibration"):
        assert "plotly-graph-div" in _section(report, key), key
    for key in LATER:
        assert "not available yet: " in _section(report, key), key
    assert "not available yet: the baseline validation" in _section(report, "validation")  # not run here
    assert "SKA-1" in _section(report, "calibration")
    # the calibration's posterior (calibration/posterior_marginals.csv) without a compare --posterior
    assert "Posterior of the free parameters" in _section(report, "uncertainty")
    assert "bed_day" in _section(report, "assumptions") and "regional price lists" in _section(report, "assumptions")
    assert "Common random numbers" in _section(report, "methods")
    assert "admissions in the measured period waited for a bed" in _section(report, "over-time")
    assert "Deaths" in _section(report, "headline") and "MSEK per year" in _section(report, "headline")
    staffed = _section(report, "staffed")
    for text in ("mobile_team: 1 team(s)", "geriatrician", "eligible persons not served per year",
                 "wait, 90th percentile (days)", "capacity: persons at once", "mean persons listed",
                 "staff cost per enrolled person-day", "home health nurse hours a week the plans take",
                 "Home health nurses (FTE)", "FTE lost to hassle", "Cost of the enrolled, SEK per enrolled person-day",
                 "team (allocated)"):
        assert text in staffed, text


def test_the_report_is_one_offline_file(report):
    bundle = get_plotlyjs()
    assert report.count(bundle) == 1  # plotly.js embedded once
    rest = report.replace(bundle, "")
    for ref in ("http://", "https://", "src=", "<link", "@import", "//cdn"):
        assert ref not in rest, ref


def test_footer_has_seed_version_and_scenario_hash(report, compared):
    import json

    m = json.loads((compared / "manifest.json").read_text())
    footer = report[report.index("<footer>"):]
    assert m["scenario_sha256"] in footer and f"<code>{m['seed']}</code>" in footer and m["version"] in footer


def test_waterfall_totals_agree_with_the_headline_area_costs(compared):
    import pandas as pd

    from sim.output.results import read_replications
    from sim.report.data import area_costs_msek, costs_by_payer
    from sim.report.sections import Context

    ctx = Context(compared)
    by = costs_by_payer(ctx.events, ctx.warmup, float(ctx.sim["years"]))
    head = area_costs_msek(read_replications(compared), float(ctx.sim["years"]))
    for paradigm in ("intervention", "person"):
        total = head[(head["paradigm"] == paradigm) & (head["payer"] == "total")]["mean"].iloc[0]
        assert by[by["paradigm"] == paradigm]["msek"].sum() == pytest.approx(total, rel=1e-5)
    diff = head.set_index(["payer", "paradigm"])["mean"]
    # replications.csv keeps 6 significant digits per payer: the parts add up to that precision,
    # which is relative to the levels (a small difference of large levels is not relative to itself)
    levels = float(head[head["paradigm"] != "difference"]["mean"].abs().sum())
    assert diff[("total", "difference")] == pytest.approx(
        diff[("region", "difference")] + diff[("municipality", "difference")], abs=1e-5 * levels)
    assert isinstance(by, pd.DataFrame)


def test_series_are_levels_not_noise(compared):
    from sim.report.data import band, weekly_series
    from sim.report.sections import Context

    ctx = Context(compared)
    b = band(weekly_series(ctx.events, ctx.warmup, ctx.horizon))
    beds = b[(b["series"] == "occupied_beds")]
    # mean occupied beds over the bins agrees with the summary's bed occupancy times the beds
    s = ctx.summary
    for paradigm in ("intervention", "person"):
        occ = s[(s["metric"] == "bed_occupancy") & (s["paradigm"] == paradigm)]["mean"].iloc[0]
        beds_n = ctx.manifest["scenario"]["capacity"]["beds"]
        assert beds[beds["paradigm"] == paradigm]["mean"].mean() == pytest.approx(occ * beds_n, rel=0.02)
    team = b[(b["series"] == "mobile_team_caseload")]
    assert set(team["paradigm"]) == {"person"}


def test_a_single_system_run_gets_a_report_that_says_what_is_missing(tmp_path):
    from sim.report.build import write_report

    out = tmp_path / "run"
    simulate_to_folder(small_scenario(persons=300, years=0.5, replications=1), ("intervention",), out, False,
                       Executor())
    html = write_report(out).read_text(encoding="utf-8")
    assert "not available yet: a comparison of both care systems" in _section(html, "headline")
    assert "not available yet" not in _section(html, "methods")


def test_a_foreign_report_html_is_never_overwritten(compared, tmp_path):
    import shutil

    from sim.report.build import write_report

    folder = tmp_path / "copy"
    shutil.copytree(compared, folder)
    (folder / "report.html").write_text("my own notes")
    with pytest.raises(ResultsError, match="not written by"):
        write_report(folder)
    assert (folder / "report.html").read_text() == "my own notes"


def test_cli_report(compared):
    res = CliRunner().invoke(app, ["report", str(compared), "--calibration", str(ROOT / "calibration")])
    assert res.exit_code == 0, res.output
    assert (compared / "report.html").is_file() and "self-contained" in res.output
    bad = CliRunner().invoke(app, ["report", str(compared / "nope")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_assumption_sources_belong_to_their_own_comment_block():
    from sim.report.sections import scenario_assumptions

    t = scenario_assumptions(DEFAULT.read_text(encoding="utf-8")).set_index("parameter")
    assert t.loc["death_rate_per_year", "source or reason"].startswith("Deaths per person-year")
    assert t.loc["bed_day", "source or reason"].startswith("medicine/geriatric ward day")
    assert "overlay" not in t.index  # top-level keys are not parameters


def test_the_validation_section_is_filled_once_narvard_validate_ran(compared, tmp_path):
    import shutil

    from sim.report.build import write_report

    folder = tmp_path / "validated"
    shutil.copytree(compared, folder)
    (folder / "report.html").unlink(missing_ok=True)
    targets = ROOT / "calibration" / "baseline_targets.toml"
    res = CliRunner().invoke(app, ["validate", str(folder), "--targets", str(targets)])
    assert res.exit_code == 0, res.output
    part = _section(write_report(folder).read_text(encoding="utf-8"), "validation")
    assert "not available yet" not in part and "plotly-graph-div" in part and "in band" in part


def test_the_uncertainty_section_shows_compare_posterior(compared, tmp_path):
    import shutil

    import pandas as pd

    from sim.experiments.posterior_compare import COLUMNS
    from sim.report.build import write_report

    folder = tmp_path / "res"
    shutil.copytree(compared, folder)
    rows = [["difference", "bed_days", "per 1,000", -120.0, -140.0, -100.0, -127.0, -131.0, -123.0, -141.0, -99.0,
             8, 2],
            ["decision", "P(person-driven care lowers the region's net cost)", "probability", 0.875,
             None, None, None, None, None, None, None, 8, 2],
            ["decision", "beds freed", "beds", 6.0, 4.0, 8.0, 6.2, 6.0, 6.4, None, None, 8, 2]]
    pd.DataFrame(rows, columns=COLUMNS).to_csv(folder / "uncertainty.csv", index=False)
    part = _section(write_report(folder, ROOT / "calibration").read_text(encoding="utf-8"), "uncertainty")
    assert "8 parameter sets" in part and "the same 2 replications" in part
    assert "-120 [-140, -100]" in part and "-127 [-131, -123]" in part
    assert "0.88" in part and "beds freed" in part
