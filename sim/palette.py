"""Colours and labels shared by every chart, report and app page.

One place, so a care system has the same colour everywhere.
Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000",
    "grey": "#999999",
}
#: One colour per care system (and for the paired difference), used by every chart.
SYSTEM_COLOURS = {
    "intervention": OKABE_ITO["vermillion"],
    "person": OKABE_ITO["blue"],
    "difference": OKABE_ITO["bluish_green"],
}
#: Swedish term first, English gloss after: the labels a workshop room reads.
SYSTEM_LABELS = {
    "intervention": "Insatsstyrning (intervention-driven, today)",
    "person": "Individstyrning (person-driven)",
    "difference": "Difference (person − intervention)",
}
PAYER_COLOURS = {"region": OKABE_ITO["sky_blue"], "municipality": OKABE_ITO["orange"],
                 "transfer": OKABE_ITO["reddish_purple"], "total": OKABE_ITO["grey"]}
#: Readable names of the care concepts and contacts (Swedish term in brackets once).
CONCEPT_LABELS = {
    "mobile_team": "Mobile närsjukvårdsteam (mobile community team)",
    "palliative_team": "Palliative team (palliativt team)",
    "home_physician": "Home-care physician (hemsjukvårdsläkare)",
    "safe_discharge": "Trygg hemgång (safe discharge team)",
    "direct_admission": "Direct admission (direktinläggning)",
    "team_collaboration": "Team collaboration (teamsamverkan)",
}
BAND_OPACITY = 0.2


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as a CSS ``rgba()`` string (bands over replications)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def system_colour(paradigm: str) -> str:
    """Return the colour of a care system (grey for anything else)."""
    return SYSTEM_COLOURS.get(paradigm, OKABE_ITO["grey"])
