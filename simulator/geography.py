"""Real places of the demo operation: settlements, their streets and the depot sites.

Coordinates are hand-placed on the valley floor and the lower hillside of Liechtenstein and the neighbouring
Rhine-valley towns. Each settlement carries a bounding box that keeps sampled addresses on land: east of the
Rhine (which forms the western border of Liechtenstein) and below the mountain flanks. Nothing here reads the
OpenStreetMap extract; the numbers are fixed so the demo world needs no downloads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEPOT_SITES",
    "ENVELOPE",
    "SETTLEMENTS",
    "BoundingBox",
    "DepotSite",
    "Settlement",
    "haversine_m",
    "sample_points",
    "settlement_by_name",
]

EARTH_RADIUS_M = 6_371_000.0
_M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class BoundingBox:
    """An axis-aligned box in decimal degrees (WGS84)."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray | bool:
        """Return whether the point(s) lie inside the box (edges included)."""
        return (
            (lat >= self.lat_min) & (lat <= self.lat_max) & (lon >= self.lon_min) & (lon <= self.lon_max)
        )


@dataclass(frozen=True)
class Settlement:
    """A village or town whose addresses the demo world samples.

    Attributes
    ----------
    name : str
        Town name as written in an address (``town`` column).
    municipality : str
        Political municipality (Liechtenstein has 11); equals ``name`` for most settlements.
    country : str
        ISO 3166 alpha-2 code: ``LI``, ``CH`` or ``AT``.
    postcode : str
        Real postcode of the settlement.
    lat, lon : float
        Centre of the settlement in decimal degrees.
    population : int
        Approximate residents; the weight of the settlement when customers are placed.
    market_share : float
        Share of the settlement's parcels this operator carries, relative to its home market (1.0).
    spread_m : float
        Standard deviation of the address scatter around the centre, in metres. Larger for the sparse
        hillside villages.
    box : BoundingBox
        Addresses are drawn only inside this box, which keeps them out of the Rhine and off the mountains.
    hillside : bool
        True for villages on the mountain flank, where driving is slower.
    streets : tuple of str
        Plausible street names of the settlement.
    """

    name: str
    municipality: str
    country: str
    postcode: str
    lat: float
    lon: float
    population: int
    market_share: float
    spread_m: float
    box: BoundingBox
    hillside: bool
    streets: tuple[str, ...]

    @property
    def weight(self) -> float:
        """Relative parcel demand of the settlement (population times market share)."""
        return self.population * self.market_share


@dataclass(frozen=True)
class DepotSite:
    """A real industrial area where a depot of the demo operation stands."""

    depot_id: str
    name: str
    street: str
    postcode: str
    town: str
    lat: float
    lon: float


def _box(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> BoundingBox:
    return BoundingBox(lat_min, lat_max, lon_min, lon_max)


# The eleven municipalities of Liechtenstein, with the villages that have their own postcode
# (Nendeln in Eschen, Schaanwald in Mauren). Populations are rounded 2024 figures.
_LIECHTENSTEIN = (
    Settlement(
        "Vaduz", "Vaduz", "LI", "9490", 47.1400, 9.5215, 5_800, 1.0, 750,
        _box(47.1260, 47.1560, 9.5080, 9.5320), False,
        ("Städtle", "Äulestrasse", "Heiligkreuz", "Kirchstrasse", "Austrasse", "Zollstrasse",
         "Landstrasse", "Fürst-Franz-Josef-Strasse", "Egertastrasse", "Im Gapetsch", "Mareestrasse",
         "Schaanerstrasse", "Bergstrasse", "Im Krüz", "Gerberweg", "Mühleholzstrasse"),
    ),
    Settlement(
        "Schaan", "Schaan", "LI", "9494", 47.1650, 9.5095, 6_200, 1.0, 800,
        _box(47.1530, 47.1780, 9.4960, 9.5220), False,
        ("Landstrasse", "Feldkircher Strasse", "Bahnhofstrasse", "Poststrasse", "Zollstrasse",
         "Bendererstrasse", "Duxgass", "Reberastrasse", "Specki", "Fanalstrasse", "Saxgass",
         "Im Rösle", "Industriestrasse", "Rietacker", "Obergass", "Winkelgass"),
    ),
    Settlement(
        "Triesen", "Triesen", "LI", "9495", 47.1075, 9.5275, 5_300, 1.0, 700,
        _box(47.0960, 47.1200, 9.5100, 9.5390), False,
        ("Landstrasse", "Dorfstrasse", "Meierhofstrasse", "Oberfeld", "Bächliweg", "Rheinstrasse",
         "Säga", "Poska", "Undera Schlossweg", "Messinastrasse", "Gartnetschhofweg", "Fürstenstrasse"),
    ),
    Settlement(
        "Balzers", "Balzers", "LI", "9496", 47.0665, 9.5030, 4_800, 1.0, 700,
        _box(47.0560, 47.0780, 9.4920, 9.5190), False,
        ("Fürstenstrasse", "Höfle", "Iramali", "Gnetsch", "Egerta", "Mälsnerdorf", "Neugrütstrasse",
         "Brüelweg", "Gagoz", "Rietstrasse", "Fuxmähder", "Palduinstrasse"),
    ),
    Settlement(
        "Eschen", "Eschen", "LI", "9492", 47.2110, 9.5225, 3_300, 1.0, 500,
        _box(47.2030, 47.2190, 9.5100, 9.5350), False,
        ("Essanestrasse", "St. Martins-Ring", "Haldenstrasse", "Fronagass", "Rennhofstrasse",
         "Schönbühl", "Pflugstrasse", "Simsgass", "Bergstrasse", "Industriestrasse"),
    ),
    Settlement(
        "Nendeln", "Eschen", "LI", "9485", 47.1985, 9.5430, 1_400, 1.0, 400,
        _box(47.1930, 47.2040, 9.5350, 9.5520), False,
        ("Feldkircher Strasse", "Churer Strasse", "Engelgass", "Bahnweg", "Sägastrasse", "Im Kretzer"),
    ),
    Settlement(
        "Mauren", "Mauren", "LI", "9493", 47.2180, 9.5440, 3_600, 1.0, 500,
        _box(47.2120, 47.2260, 9.5320, 9.5560), False,
        ("Peter-Kaiser-Strasse", "Kirchstrasse", "Fallsgass", "Binza", "Werkstrasse", "Wegacker",
         "Rüttegass", "Weiherring", "Freiendorf", "Peter-und-Paul-Strasse"),
    ),
    Settlement(
        "Schaanwald", "Mauren", "LI", "9486", 47.2145, 9.5640, 900, 1.0, 350,
        _box(47.2090, 47.2190, 9.5560, 9.5720), False,
        ("Vorarlberger Strasse", "Zollstrasse", "Im Rain", "Waldstrasse", "Schaanwalderstrasse"),
    ),
    Settlement(
        "Triesenberg", "Triesenberg", "LI", "9497", 47.1180, 9.5430, 2_700, 1.0, 900,
        _box(47.1060, 47.1330, 9.5360, 9.5620), True,
        ("Jonaboda", "Landstrasse", "Rotenbodenstrasse", "Wangerbergstrasse", "Gschindstrasse",
         "Leitawis", "Hag", "Üenaboda", "Rüti", "Masescha", "Lavadina", "Steinort"),
    ),
    Settlement(
        "Ruggell", "Ruggell", "LI", "9491", 47.2385, 9.5255, 2_500, 1.0, 550,
        _box(47.2320, 47.2480, 9.5120, 9.5400), False,
        ("Landstrasse", "Industriering", "Poliweg", "Limsenegg", "Spiegelstrasse", "Giessenstrasse",
         "Schlatt", "Noflerstrasse", "Kirchstrasse", "Weierstrasse"),
    ),
    Settlement(
        "Gamprin-Bendern", "Gamprin", "LI", "9487", 47.2165, 9.5080, 1_750, 1.0, 500,
        _box(47.2060, 47.2260, 9.5010, 9.5180), False,
        ("Haldenstrasse", "Kirchstrasse", "Gamprinerstrasse", "Badäl", "Rheinstrasse", "Oberbühl",
         "Tuaweg"),
    ),
    Settlement(
        "Schellenberg", "Schellenberg", "LI", "9488", 47.2310, 9.5470, 1_100, 1.0, 400,
        _box(47.2260, 47.2370, 9.5370, 9.5600), True,
        ("Hinterschellenberg", "Vorderer Schellenberg", "Dorfstrasse", "Ober-Bühl", "Im Winkel"),
    ),
    Settlement(
        "Planken", "Planken", "LI", "9498", 47.1855, 9.5445, 480, 1.0, 300,
        _box(47.1810, 47.1910, 9.5370, 9.5520), True,
        ("Dorfstrasse", "Saroja", "Plankner Strasse", "Oberplanken", "Bühl"),
    ),
)

# Rhine-valley towns across the border, used only by the ``large`` scale. The Swiss towns share the customs
# area with Liechtenstein; in Feldkirch the operator competes with the Austrian post, hence the lower share.
_NEIGHBOURS = (
    Settlement(
        "Buchs SG", "Buchs", "CH", "9470", 47.1670, 9.4780, 13_000, 1.0, 900,
        _box(47.1550, 47.1800, 9.4600, 9.4900), False,
        ("Bahnhofstrasse", "St. Gallerstrasse", "Grünaustrasse", "Churerstrasse", "Schulhausstrasse",
         "Werdenbergstrasse", "Rheinaustrasse", "Langäulistrasse", "Brunnenweg", "Heldaustrasse"),
    ),
    Settlement(
        "Sevelen", "Sevelen", "CH", "9475", 47.1220, 9.4870, 5_300, 1.0, 600,
        _box(47.1120, 47.1320, 9.4740, 9.4950), False,
        ("Churerstrasse", "Bahnhofstrasse", "Glat", "Kirchstrasse", "Rheinweg", "Sonnenweg"),
    ),
    Settlement(
        "Grabs", "Grabs", "CH", "9472", 47.1820, 9.4440, 7_300, 1.0, 700,
        _box(47.1740, 47.1900, 9.4320, 9.4580), False,
        ("Staatsstrasse", "Kirchgasse", "Spitalstrasse", "Werdenstrasse", "Unterdorfstrasse",
         "Sporgasse"),
    ),
    Settlement(
        "Feldkirch", "Feldkirch", "AT", "6800", 47.2375, 9.5980, 35_000, 0.5, 1_100,
        _box(47.2260, 47.2500, 9.5800, 9.6150), False,
        ("Neustadt", "Marktgasse", "Schillerstrasse", "Reichsstrasse", "Bahnhofstrasse",
         "Tisner Strasse", "Liechtensteiner Strasse", "Schmiedgasse", "Hirschgraben", "Carinagasse"),
    ),
)

SETTLEMENTS: dict[str, tuple[Settlement, ...]] = {
    "liechtenstein": _LIECHTENSTEIN,
    "rhine_valley": _LIECHTENSTEIN + _NEIGHBOURS,
}
"""Settlements by area: ``liechtenstein`` (the 11 municipalities) and ``rhine_valley`` (plus neighbours)."""

ENVELOPE = BoundingBox(lat_min=47.04, lat_max=47.27, lon_min=9.42, lon_max=9.64)
"""Every generated coordinate lies inside this box around Liechtenstein and its Rhine valley."""

DEPOT_SITES: dict[str, DepotSite] = {
    site.depot_id: site
    for site in (
        DepotSite("D-SCHAAN", "Verteilzentrum Schaan", "Industriestrasse 26", "9494", "Schaan",
                  47.1590, 9.5000),
        DepotSite("D-TRIESEN", "Verteilzentrum Triesen", "Industriestrasse 5", "9495", "Triesen",
                  47.1120, 9.5140),
        DepotSite("D-RUGGELL", "Verteilzentrum Ruggell", "Industriering 20", "9491", "Ruggell",
                  47.2420, 9.5180),
    )
}
"""Depot sites in the industrial areas of Schaan and Triesen, and Ruggell (Unterland) for ``large``."""


def settlement_by_name(name: str) -> Settlement:
    """Return the settlement called ``name`` from the widest area.

    Raises
    ------
    KeyError
        If no settlement has that name.
    """
    for settlement in SETTLEMENTS["rhine_valley"]:
        if settlement.name == name:
            return settlement
    raise KeyError(f"unknown settlement {name!r}")


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres between points in decimal degrees (numpy broadcasting)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def sample_points(
    settlement: Settlement, n: int, rng: np.random.Generator, spread_factor: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` address coordinates around a settlement.

    Points follow a bivariate normal around the centre (a dense core that thins out) and are drawn again
    until they fall inside the settlement's box, so none lands in the Rhine or high on the mountain.

    Parameters
    ----------
    settlement : Settlement
        Where to place the points.
    n : int
        Number of points.
    rng : numpy.random.Generator
        Source of randomness.
    spread_factor : float, default 1.0
        Multiplies ``settlement.spread_m`` (businesses cluster closer to the centre than homes).

    Returns
    -------
    lat, lon : numpy.ndarray
        Decimal degrees, each of shape ``(n,)``.
    """
    sd_m = settlement.spread_m * spread_factor
    sd_lat = sd_m / _M_PER_DEG_LAT
    sd_lon = sd_m / (_M_PER_DEG_LAT * math.cos(math.radians(settlement.lat)))
    lat = np.empty(n)
    lon = np.empty(n)
    filled = 0
    while filled < n:
        want = max(16, 2 * (n - filled))
        cand_lat = rng.normal(settlement.lat, sd_lat, want)
        cand_lon = rng.normal(settlement.lon, sd_lon, want)
        keep = settlement.box.contains(cand_lat, cand_lon)
        take = min(n - filled, int(keep.sum()))
        lat[filled : filled + take] = cand_lat[keep][:take]
        lon[filled : filled + take] = cand_lon[keep][:take]
        filled += take
    return lat, lon
