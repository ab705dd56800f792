"""Road-network travel model: distances and times over an OpenStreetMap road graph.

:class:`RoadNetwork` reads the drivable roads of an OpenStreetMap extract (PBF) with pyosmium into a directed
graph (a scipy CSR matrix of segment lengths, one-way streets honoured) and keeps its largest strongly
connected component, so every node reaches every other. :class:`RoadTravelModel` implements the solver's
:class:`~solver.travel.TravelModel` on it: locations snap to the nearest graph node, shortest paths come from
``scipy.sparse.csgraph.dijkstra``, and locations outside the extract fall back to great-circle distance times a
circuity. :meth:`RoadTravelModel.paths` gives the road geometry of a route for the map.

Map data © OpenStreetMap contributors, available under the Open Database Licence (ODbL 1.0). A graph built
from an extract is a derived database under the same licence.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import osmium
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from solver.travel import EARTH_RADIUS_M, GreatCircleTravelModel, TravelMatrices, haversine_m

PROFILES = ("car",)
"""Routing profiles :meth:`RoadNetwork.from_pbf` knows."""

ROAD_SPEED_KMH = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
}
"""Free-flow speed (km/h) of each drivable ``highway`` class when the way has no numeric ``maxspeed``.

The classes are the drivable ones; their speeds follow OSRM's car profile (``profiles/car.lua``)."""

IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})
"""Highway classes that are one-way unless tagged ``oneway=no`` (as are ``junction=roundabout``/``circular``)."""

FORBIDDEN_ACCESS = frozenset({"no", "private"})
"""Access values that take a way out of the graph (read from the most specific of ``motorcar``,
``motor_vehicle``, ``vehicle`` and ``access``)."""

FORBIDDEN_SERVICE = frozenset({"emergency_access"})
"""``service`` values that take a way out of the graph."""

SNAP_SPEED_KMH = 15.0
"""Speed (km/h, capped by the vehicle's) on the straight line between a location and its graph node, and
between two locations that snap to the same node: the speed of a service road."""

MIN_SEGMENT_M = 1e-3
"""Length given to a segment between two OSM nodes at the same position: a sparse matrix drops zero entries."""

_MPH_KMH = 1.609344
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$")
_CHUNK_CELLS = 2_000_000
"""Sources per Dijkstra batch times junctions: bounds the memory of one batch (about 50 MB per speed)."""


def parse_maxspeed(value: str | None) -> float | None:
    """A ``maxspeed`` tag in km/h, or ``None`` unless it is a plain number (km/h) or a number in mph."""
    if not value:
        return None
    match = _MAXSPEED.match(value)
    if match is None:
        return None
    speed = float(match.group(1)) * (_MPH_KMH if match.group(2) == "mph" else 1.0)
    return speed if speed > 0 else None


def _way_directions(tags: Mapping[str, str], highway: str) -> tuple[bool, bool] | None:
    """``(forward, backward)`` travel allowed along a way's node order, or ``None`` if no car may use it."""
    if highway not in ROAD_SPEED_KMH or tags.get("area") == "yes":
        return None
    if tags.get("service") in FORBIDDEN_SERVICE:
        return None
    for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
        value = tags.get(key)
        if value is not None:
            if value in FORBIDDEN_ACCESS:
                return None
            break
    oneway = tags.get("oneway")
    if oneway in ("yes", "1", "true"):
        return True, False
    if oneway in ("-1", "reverse"):
        return False, True
    if oneway in ("reversible", "alternating"):
        return None  # direction changes with the time of day: not routable with a fixed graph
    if oneway in ("no", "0", "false"):
        return True, True
    if highway in IMPLIED_ONEWAY or tags.get("junction") in ("roundabout", "circular"):
        return True, False
    return True, True


def _read_segments(path: str) -> tuple[np.ndarray, ...]:
    """Directed road segments of a PBF: ``(from_ref, to_ref, from_lat, from_lon, to_lat, to_lon, speed_kmh)``."""
    refs_from: list[int] = []
    refs_to: list[int] = []
    coords: list[tuple[float, float, float, float]] = []
    speeds: list[float] = []
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if not way.is_way():
            continue
        highway = way.tags.get("highway")
        directions = _way_directions(way.tags, highway)
        if directions is None:
            continue
        speed = parse_maxspeed(way.tags.get("maxspeed")) or ROAD_SPEED_KMH[highway]
        nodes = [(n.ref, n.location.lat, n.location.lon) for n in way.nodes if n.location.valid()]
        for (a, alat, alon), (b, blat, blon) in zip(nodes[:-1], nodes[1:], strict=True):
            if a == b:
                continue
            if directions[0]:
                refs_from.append(a)
                refs_to.append(b)
                coords.append((alat, alon, blat, blon))
                speeds.append(speed)
            if directions[1]:
                refs_from.append(b)
                refs_to.append(a)
                coords.append((blat, blon, alat, alon))
                speeds.append(speed)
    if not refs_from:
        raise ValueError(f"{path} holds no drivable road")
    c = np.asarray(coords, dtype=np.float64)
    return (
        np.asarray(refs_from, dtype=np.int64),
        np.asarray(refs_to, dtype=np.int64),
        c[:, 0],
        c[:, 1],
        c[:, 2],
        c[:, 3],
        np.asarray(speeds, dtype=np.float64),
    )


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _edge_keys(graph: csr_matrix) -> np.ndarray:
    """``row * n + column`` of each stored entry of a CSR matrix with sorted indices (so the keys are sorted)."""
    n = graph.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr))
    return _read_only(rows * n + graph.indices.astype(np.int64))


def _sorted_csr(u: np.ndarray, v: np.ndarray, data: np.ndarray, n: int) -> csr_matrix:
    """CSR matrix from entries already sorted by (row, column) without duplicates; ``data`` keeps its order."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    graph = csr_matrix((data, v.astype(np.int32), indptr), shape=(n, n))
    graph.has_sorted_indices = True
    for a in (graph.data, graph.indices, graph.indptr):
        _read_only(a)
    return graph


def _sum_along_tree(pred: np.ndarray, edge_values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Sum of per-edge values from each shortest-path tree's root to every node, by pointer jumping.

    ``pred`` is a ``(b, n)`` predecessor matrix from :func:`~scipy.sparse.csgraph.dijkstra`, ``edge_values``
    ``(k, n_edges)`` aligned with the graph's CSR data, ``keys`` the graph's :func:`_edge_keys`. Returns
    ``(k, b, n)``; ``O(b n log depth)``.
    """
    b, n = pred.shape
    rows, cols = np.nonzero(pred >= 0)
    parent = pred[rows, cols].astype(np.int64)
    k = edge_values.shape[0]
    values = np.zeros((b * n, k), dtype=np.float64)  # node-major: one gather fetches all k values of a node
    flat = rows * n + cols
    values[flat] = edge_values[:, np.searchsorted(keys, parent * n + cols)].T
    # Each node points to an ancestor; values[t] is the sum over the tree path from t up to that ancestor.
    index_type = np.int32 if b * n < np.iinfo(np.int32).max else np.int64
    pointer = np.arange(b * n, dtype=index_type)
    pointer[flat] = rows * n + parent
    while True:
        jumped = pointer[pointer]
        if np.array_equal(jumped, pointer):
            return values.T.reshape(k, b, n)
        values += values[pointer]
        pointer = jumped


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """The drivable road graph of an OpenStreetMap extract: its largest strongly connected component.

    Build it with :meth:`from_pbf`. Nodes are the OSM nodes of drivable ways (every vertex, not only
    junctions), numbered ``0 .. n_nodes - 1``; edges are the segments between consecutive nodes of a way, in
    each allowed direction. Arrays are read-only.

    Shortest paths run on a contracted copy: chains of nodes that only continue a road (two neighbours, the
    same direction rules on both sides) become one edge between junctions, which makes the graph about five
    times smaller. A location on such a chain leaves it through either end its direction allows.

    Attributes
    ----------
    source
        Resolved path of the PBF file.
    profile
        Routing profile (``"car"``).
    node_id
        OSM node id of each graph node, int64.
    lat, lon
        Position of each graph node, decimal degrees.
    length_m
        ``(n_nodes, n_nodes)`` CSR matrix, float64 metres (haversine): ``length_m[u, v]`` is the segment from
        ``u`` to ``v``; the shortest one if several ways join them. Indices are sorted.
    speed_kmh
        Free-flow speed of each edge (``maxspeed`` when numeric, else :data:`ROAD_SPEED_KMH`), aligned with
        ``length_m.data``.
    dropped_lat, dropped_lon
        Positions of the drivable nodes left out because they are not in the largest strongly connected
        component (car parks behind one-way gates, fragments cut by the extract's border, ...).
    """

    source: str
    profile: str
    node_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    length_m: csr_matrix
    speed_kmh: np.ndarray
    dropped_lat: np.ndarray
    dropped_lon: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cos_lat0", math.cos(math.radians(float(np.mean(self.lat)))))
        object.__setattr__(self, "_tree", cKDTree(self._project(self.lat, self.lon)))
        object.__setattr__(self, "_keys", _edge_keys(self.length_m))
        self._contract()

    @classmethod
    def from_pbf(cls, path: str | Path, profile: str = "car") -> RoadNetwork:
        """Load (or take from this process's cache) the road network of an OpenStreetMap PBF extract.

        Parameters
        ----------
        path
            A ``.osm.pbf`` file.
        profile
            Routing profile; only ``"car"``.

        Returns
        -------
        RoadNetwork
            Cached per (resolved path, modification time, profile): a changed file is read again.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        ValueError
            For an unknown profile or a file without drivable roads.
        """
        if profile not in PROFILES:
            raise ValueError(f"unknown routing profile {profile!r}; known: {', '.join(PROFILES)}")
        resolved = Path(path).resolve()
        if not resolved.is_file():
            raise FileNotFoundError(f"no OpenStreetMap extract at {resolved}")
        return _load(str(resolved), resolved.stat().st_mtime_ns, profile)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.lat.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges (road segments)."""
        return int(self.length_m.nnz)

    @property
    def n_junctions(self) -> int:
        """Number of nodes of the contracted graph the shortest paths run on."""
        return int(self._junction_vertex.shape[0])

    def has_edge(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Whether the segment ``u -> v`` may be driven, for node indices of any broadcastable shapes."""
        key = np.asarray(u, dtype=np.int64) * self.n_nodes + np.asarray(v, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._keys, key), self._keys.shape[0] - 1)
        return self._keys[at] == key

    def _edge_index(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        key = np.asarray(u, dtype=np.int64) * self.n_nodes + np.asarray(v, dtype=np.int64)
        return np.searchsorted(self._keys, key)

    def _contract(self) -> None:
        """Find the chains between junctions and build the junction graph (see the class docstring)."""
        n = self.n_nodes
        both = (self.length_m + self.length_m.T).tocsr()
        both.sort_indices()
        neighbours = np.split(both.indices.astype(np.int64), both.indptr[1:-1])
        degree = np.diff(both.indptr)
        through = np.zeros(n, dtype=bool)
        x = np.flatnonzero(degree == 2)
        a, b = both.indices[both.indptr[x]], both.indices[both.indptr[x] + 1]
        ax, xb, bx, xa = self.has_edge(a, x), self.has_edge(x, b), self.has_edge(b, x), self.has_edge(x, a)
        one_way = (ax & xb & ~bx & ~xa) | (bx & xa & ~ax & ~xb)
        through[x] = one_way | (ax & xb & bx & xa)

        junction = ~through
        chains: list[list[int]] = []
        covered = junction.copy()
        starts = list(np.flatnonzero(junction))
        while True:
            for j in starts:
                for w in neighbours[j]:
                    path = [int(j), int(w)]
                    while not junction[path[-1]]:
                        p, q = neighbours[path[-1]]
                        path.append(int(q if p == path[-2] else p))
                    if path <= path[::-1]:  # each chain is walked from both ends: keep one walk
                        chains.append(path)
                        covered[path] = True
            if covered.all():
                break
            # A ring of through nodes with no junction on it: make its first node one.
            first = int(np.flatnonzero(~covered)[0])
            junction[first] = covered[first] = True
            starts = [first]

        sizes = np.array([len(c) for c in chains], dtype=np.int64)
        chain_ptr = np.zeros(len(chains) + 1, dtype=np.int64)
        np.cumsum(sizes, out=chain_ptr[1:])
        vertex = np.concatenate([np.asarray(c, dtype=np.int64) for c in chains])
        first, last = chain_ptr[:-1], chain_ptr[1:] - 1
        forward = self.has_edge(vertex[first], vertex[first + 1])
        backward = self.has_edge(vertex[first + 1], vertex[first])
        chain_of = np.repeat(np.arange(len(chains)), sizes)
        # Segment k joins positions k and k + 1 of ``vertex``; the last position of a chain starts no segment.
        in_chain = np.ones(vertex.shape[0] - 1, dtype=bool)
        in_chain[last[:-1]] = False
        u, v = vertex[:-1], vertex[1:]
        fwd_seg = in_chain & forward[chain_of[:-1]]
        bwd_seg = in_chain & backward[chain_of[:-1]]
        seg_len = np.zeros(u.shape[0])
        fwd_speed = np.ones(u.shape[0])
        bwd_speed = np.ones(u.shape[0])
        e = self._edge_index(u[fwd_seg], v[fwd_seg])
        seg_len[fwd_seg], fwd_speed[fwd_seg] = self.length_m.data[e], self.speed_kmh[e]
        e = self._edge_index(v[bwd_seg], u[bwd_seg])
        seg_len[bwd_seg], bwd_speed[bwd_seg] = self.length_m.data[e], self.speed_kmh[e]

        junction_vertex = np.flatnonzero(junction)
        junction_of = np.full(n, -1, dtype=np.int64)
        junction_of[junction_vertex] = np.arange(junction_vertex.shape[0])
        position = np.full(n, -1, dtype=np.int64)
        interior = ~junction[vertex]
        position[vertex[interior]] = np.flatnonzero(interior)

        attrs = {
            "_chain_ptr": chain_ptr,
            "_chain_vertex": vertex,
            "_chain_forward": forward,
            "_chain_backward": backward,
            "_chain_of": chain_of,
            "_seg_len": seg_len,
            "_fwd_speed": fwd_speed,
            "_bwd_speed": bwd_speed,
            "_junction_vertex": junction_vertex,
            "_junction_of": junction_of,
            "_position": position,
        }
        for name, value in attrs.items():
            object.__setattr__(self, name, _read_only(value))
        object.__setattr__(self, "_offset_m", _read_only(self._along(seg_len)))

        # Junction graph: one edge per chain and allowed direction; the shortest of parallel chains.
        total = self._offset_m[last]
        ends = junction_of[vertex[first]], junction_of[vertex[last]]
        cu = np.concatenate([ends[0][forward], ends[1][backward]])
        cv = np.concatenate([ends[1][forward], ends[0][backward]])
        length = np.concatenate([total[forward], total[backward]])
        chain = np.concatenate([np.flatnonzero(forward), np.flatnonzero(backward)])
        direction = np.concatenate([np.ones(int(forward.sum()), bool), np.zeros(int(backward.sum()), bool)])
        keep = cu != cv
        cu, cv, length, chain, direction = cu[keep], cv[keep], length[keep], chain[keep], direction[keep]
        order = np.lexsort((length, cv, cu))
        cu, cv, length, chain, direction = cu[order], cv[order], length[order], chain[order], direction[order]
        unique = np.ones(cu.shape[0], dtype=bool)
        unique[1:] = (cu[1:] != cu[:-1]) | (cv[1:] != cv[:-1])
        graph = _sorted_csr(cu[unique], cv[unique], length[unique], junction_vertex.shape[0])
        object.__setattr__(self, "_junction_graph", graph)
        object.__setattr__(self, "_junction_keys", _edge_keys(graph))
        object.__setattr__(self, "_edge_chain", _read_only(chain[unique]))
        object.__setattr__(self, "_edge_forward", _read_only(direction[unique]))

    def _along(self, seg_values: np.ndarray) -> np.ndarray:
        """Per chain position: the sum of ``seg_values`` from the chain's first position up to it."""
        cumulative = np.concatenate([[0.0], np.cumsum(seg_values)])
        return cumulative - cumulative[self._chain_ptr[:-1]][self._chain_of]

    def _project(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Equirectangular projection (metres) around the graph's mean latitude, for nearest-node search."""
        lat_r = np.radians(np.asarray(lat, dtype=np.float64))
        lon_r = np.radians(np.asarray(lon, dtype=np.float64))
        return np.column_stack([EARTH_RADIUS_M * lon_r * self._cos_lat0, EARTH_RADIUS_M * lat_r])

    def snap(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest graph node of each location.

        Parameters
        ----------
        lat, lon
            Shape ``(n,)``, decimal degrees.

        Returns
        -------
        tuple of numpy.ndarray
            Node index (int64) and great-circle distance to it in metres (float64), shape ``(n,)`` each.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if lat.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        _, node = self._tree.query(self._project(lat, lon))
        node = np.asarray(node, dtype=np.int64)
        return node, haversine_m(lat, lon, self.lat[node], self.lon[node])

    def _ends(self, nodes: np.ndarray, seg_times: np.ndarray, leaving: bool):
        """Ways out of (``leaving``) or into each node through the junctions at the ends of its chain.

        Returns junction indices ``(m, 2)`` (-1 where there is none), metres ``(m, 2)`` (inf where there is
        none) and seconds ``(k, m, 2)`` between the node and each junction. A junction is its own only end.
        """
        m = nodes.shape[0]
        junction = np.full((m, 2), -1, dtype=np.int64)
        metres = np.full((m, 2), np.inf)
        seconds = np.zeros((seg_times.shape[0], m, 2))
        own = self._junction_of[nodes]
        at_junction = own >= 0
        junction[at_junction, 0] = own[at_junction]
        metres[at_junction, 0] = 0.0
        inner = np.flatnonzero(~at_junction)
        pos = self._position[nodes[inner]]
        chain = self._chain_of[pos]
        first, last = self._chain_ptr[chain], self._chain_ptr[chain + 1] - 1
        offset, total = self._offset_m[pos], self._offset_m[last]
        fwd_t = np.stack([self._along(t) for t in seg_times[:, 0]]) if seg_times.shape[0] else seconds[:, :0, 0]
        bwd_t = np.stack([self._along(t) for t in seg_times[:, 1]]) if seg_times.shape[0] else seconds[:, :0, 0]
        # Column 0 runs with the chain's direction, column 1 against it.
        ok = self._chain_forward[chain]
        end_0 = last if leaving else first
        junction[inner[ok], 0] = self._junction_of[self._chain_vertex[end_0[ok]]]
        metres[inner[ok], 0] = (total - offset if leaving else offset)[ok]
        if seg_times.shape[0]:
            t0 = fwd_t[:, last] - fwd_t[:, pos] if leaving else fwd_t[:, pos]
            seconds[:, inner[ok], 0] = t0[:, ok]
        ok = self._chain_backward[chain]
        end_1 = first if leaving else last
        junction[inner[ok], 1] = self._junction_of[self._chain_vertex[end_1[ok]]]
        metres[inner[ok], 1] = (offset if leaving else total - offset)[ok]
        if seg_times.shape[0]:
            t1 = bwd_t[:, pos] if leaving else bwd_t[:, last] - bwd_t[:, pos]
            seconds[:, inner[ok], 1] = t1[:, ok]
        return junction, metres, seconds

    def _segment_times(self, speeds_kmh: Sequence[float], speed_scale: float) -> np.ndarray:
        """Seconds per chain segment ``(k, 2, n_segments)``, with and against the chain, for each speed."""
        out = np.zeros((len(speeds_kmh), 2, self._seg_len.shape[0]))
        for p, v in enumerate(speeds_kmh):
            out[p, 0] = self._seg_len * 3.6 / np.minimum(speed_scale * self._fwd_speed, v)
            out[p, 1] = self._seg_len * 3.6 / np.minimum(speed_scale * self._bwd_speed, v)
        return out

    def _junction_edge_times(self, seg_times: np.ndarray) -> np.ndarray:
        """Seconds along each junction-graph edge ``(k, n_junction_edges)``."""
        last = self._chain_ptr[1:] - 1
        chain, fwd = self._edge_chain, self._edge_forward
        out = np.empty((seg_times.shape[0], chain.shape[0]))
        for p in range(seg_times.shape[0]):
            along_fwd, along_bwd = self._along(seg_times[p, 0]), self._along(seg_times[p, 1])
            out[p] = np.where(fwd, along_fwd[last[chain]], along_bwd[last[chain]])
        return out

    def road_metrics(
        self, sources: np.ndarray, targets: np.ndarray, speeds_kmh: Sequence[float] = (), speed_scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Shortest road distance between graph nodes, and the time to drive that path at each speed.

        Parameters
        ----------
        sources, targets
            Node indices, shapes ``(s,)`` and ``(t,)``.
        speeds_kmh
            Vehicle speeds (km/h): each segment is driven at ``min(speed_scale * free-flow speed, speed)``.
        speed_scale
            Multiplier on the free-flow speeds. Default 1.0.

        Returns
        -------
        tuple of numpy.ndarray
            Metres ``(s, t)`` and seconds ``(len(speeds_kmh), s, t)``, float64; zero from a node to itself.
            The graph is strongly connected, so every entry is finite.
        """
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        seg_times = self._segment_times(speeds_kmh, speed_scale)
        out_j, out_m, out_s = self._ends(sources, seg_times, leaving=True)
        in_j, in_m, in_s = self._ends(targets, seg_times, leaving=False)
        from_j = np.unique(out_j[out_j >= 0])
        to_j = np.unique(in_j[in_j >= 0])
        jm, js = self._junction_metrics(from_j, to_j, self._junction_edge_times(seg_times))

        metres = np.full((sources.shape[0], targets.shape[0]), np.inf)
        seconds = np.zeros((len(speeds_kmh), sources.shape[0], targets.shape[0]))
        for a in (0, 1):
            row = np.searchsorted(from_j, out_j[:, a])
            row_ok = out_j[:, a] >= 0
            for b in (0, 1):
                col = np.searchsorted(to_j, in_j[:, b])
                col_ok = in_j[:, b] >= 0
                r, c = np.minimum(row, from_j.shape[0] - 1), np.minimum(col, to_j.shape[0] - 1)
                via = jm[r[:, None], c[None, :]]
                cand = out_m[:, a, None] + via + in_m[None, :, b]
                cand[~(row_ok[:, None] & col_ok[None, :])] = np.inf
                better = cand < metres
                metres[better] = cand[better]
                for p in range(len(speeds_kmh)):
                    t = out_s[p, :, a, None] + js[p][r[:, None], c[None, :]] + in_s[p, None, :, b]
                    seconds[p][better] = t[better]

        # Two nodes on one chain: straight along it, where its direction allows.
        pos_s, pos_t = self._position[sources], self._position[targets]
        same = (pos_s[:, None] >= 0) & (pos_t[None, :] >= 0)
        same &= self._chain_of[pos_s][:, None] == self._chain_of[pos_t][None, :]
        if same.any():
            i, j = np.nonzero(same)
            ps, pt = pos_s[i], pos_t[j]
            chain = self._chain_of[ps]
            ahead = (pt > ps) & self._chain_forward[chain]
            behind = (pt < ps) & self._chain_backward[chain]
            straight = np.where(ahead, self._offset_m[pt] - self._offset_m[ps], self._offset_m[ps] - self._offset_m[pt])
            use = (ahead | behind) & (straight < metres[i, j])
            i, j, ps, pt, ahead = i[use], j[use], ps[use], pt[use], ahead[use]
            metres[i, j] = straight[use]
            for p in range(len(speeds_kmh)):
                fwd_t, bwd_t = self._along(seg_times[p, 0]), self._along(seg_times[p, 1])
                seconds[p, i, j] = np.where(ahead, fwd_t[pt] - fwd_t[ps], bwd_t[ps] - bwd_t[pt])
        itself = sources[:, None] == targets[None, :]
        metres[itself] = 0.0
        seconds[:, itself] = 0.0
        return metres, seconds

    def _junction_metrics(
        self, sources: np.ndarray, targets: np.ndarray, edge_times: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Shortest-distance metres ``(s, t)`` between junctions and the summed edge times ``(k, s, t)``."""
        metres = np.zeros((sources.shape[0], targets.shape[0]))
        seconds = np.zeros((edge_times.shape[0], sources.shape[0], targets.shape[0]))
        if sources.shape[0] == 0 or targets.shape[0] == 0:
            return metres, seconds
        n = self.n_junctions
        chunk = max(1, _CHUNK_CELLS // n)
        for start in range(0, sources.shape[0], chunk):
            batch = sources[start : start + chunk]
            dist, pred = dijkstra(self._junction_graph, directed=True, indices=batch, return_predecessors=True)
            metres[start : start + batch.shape[0]] = dist[:, targets]
            if edge_times.shape[0]:
                summed = _sum_along_tree(pred, edge_times, self._junction_keys)
                seconds[:, start : start + batch.shape[0]] = summed[:, :, targets]
        return metres, seconds

    def road_path(self, source: int, target: int) -> list[int]:
        """Nodes of the shortest road path from node ``source`` to node ``target`` (both included)."""
        nodes = np.array([source, target], dtype=np.int64)
        out_j, out_m, _ = self._ends(nodes[:1], np.zeros((0, 2, 0)), leaving=True)
        in_j, in_m, _ = self._ends(nodes[1:], np.zeros((0, 2, 0)), leaving=False)
        if source == target:
            return [int(source)]
        best, plan = np.inf, None
        starts = np.unique(out_j[out_j >= 0])
        dist, pred = dijkstra(self._junction_graph, directed=True, indices=starts, return_predecessors=True)
        for a in (0, 1):
            for b in (0, 1):
                if out_j[0, a] < 0 or in_j[0, b] < 0:
                    continue
                row = int(np.searchsorted(starts, out_j[0, a]))
                cand = out_m[0, a] + dist[row, in_j[0, b]] + in_m[0, b]
                if cand < best:
                    best, plan = cand, (a, b, row)
        pos_s, pos_t = self._position[source], self._position[target]
        if pos_s >= 0 and pos_t >= 0 and self._chain_of[pos_s] == self._chain_of[pos_t]:
            chain = self._chain_of[pos_s]
            offset = self._offset_m
            if pos_t > pos_s and self._chain_forward[chain] and offset[pos_t] - offset[pos_s] < best:
                return [int(x) for x in self._chain_vertex[pos_s : pos_t + 1]]
            if pos_t < pos_s and self._chain_backward[chain] and offset[pos_s] - offset[pos_t] < best:
                return [int(x) for x in self._chain_vertex[pos_t : pos_s + 1][::-1]]
        a, b, row = plan
        nodes_out = self._chain_walk(source, a, leaving=True)
        junctions = [int(in_j[0, b])]
        while junctions[-1] != out_j[0, a]:
            junctions.append(int(pred[row, junctions[-1]]))
        junctions.reverse()
        path = nodes_out
        for ju, jv in zip(junctions[:-1], junctions[1:], strict=True):
            e = int(np.searchsorted(self._junction_keys, ju * self.n_junctions + jv))
            lo, hi = self._chain_ptr[self._edge_chain[e]], self._chain_ptr[self._edge_chain[e] + 1]
            chain_nodes = self._chain_vertex[lo:hi] if self._edge_forward[e] else self._chain_vertex[lo:hi][::-1]
            path += [int(x) for x in chain_nodes[1:]]
        path += self._chain_walk(target, b, leaving=False)[1:]
        return path

    def _chain_walk(self, node: int, side: int, leaving: bool) -> list[int]:
        """Nodes between ``node`` and the junction it leaves to (or enters from) on ``side`` of its chain."""
        pos = self._position[node]
        if pos < 0:
            return [int(node)]
        chain = self._chain_of[pos]
        lo, hi = self._chain_ptr[chain], self._chain_ptr[chain + 1]
        ahead = self._chain_vertex[pos:hi]  # node .. last
        behind = self._chain_vertex[lo : pos + 1][::-1]  # node .. first
        if leaving:
            walk = ahead if side == 0 else behind
        else:
            walk = (behind if side == 0 else ahead)[::-1]
        return [int(x) for x in walk]


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, profile: str) -> RoadNetwork:
    """Read a PBF into a :class:`RoadNetwork` (cached by the caller's key; ``mtime_ns`` only keys the cache)."""
    ref_from, ref_to, alat, alon, blat, blon, speed = _read_segments(path)
    node_ref, index = np.unique(np.concatenate([ref_from, ref_to]), return_inverse=True)
    u, v = index[: ref_from.shape[0]], index[ref_from.shape[0] :]
    node_lat = np.empty(node_ref.shape[0])
    node_lon = np.empty(node_ref.shape[0])
    node_lat[u], node_lon[u] = alat, alon
    node_lat[v], node_lon[v] = blat, blon
    length = np.maximum(haversine_m(alat, alon, blat, blon), MIN_SEGMENT_M)

    n = node_ref.shape[0]
    adjacency = csr_matrix((np.ones_like(length), (u, v)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    largest = np.bincount(labels).argmax()
    keep = labels == largest
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[keep] = np.arange(int(keep.sum()))

    inside = keep[u] & keep[v]
    u, v, length, speed = new_index[u[inside]], new_index[v[inside]], length[inside], speed[inside]
    # Parallel segments (two ways over the same pair of nodes): keep the shortest, with its own speed.
    order = np.lexsort((length, v, u))
    u, v, length, speed = u[order], v[order], length[order], speed[order]
    first = np.ones(u.shape[0], dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, length, speed = u[first], v[first], length[first], speed[first]
    graph = _sorted_csr(u, v, length, int(keep.sum()))
    return RoadNetwork(
        source=path,
        profile=profile,
        node_id=_read_only(node_ref[keep]),
        lat=_read_only(node_lat[keep]),
        lon=_read_only(node_lon[keep]),
        length_m=graph,
        speed_kmh=_read_only(speed),
        dropped_lat=_read_only(node_lat[~keep]),
        dropped_lon=_read_only(node_lon[~keep]),
    )


@lru_cache(maxsize=8)
def _file_digest(path: str, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class RoadTravelModel:
    """Road distances and times over an OpenStreetMap extract, great-circle outside it.

    A location snaps to its nearest node of the road graph (:class:`RoadNetwork`). Between two snapped
    locations, the distance is the shortest road distance between their nodes plus both snap legs (straight
    lines from each location to its node); two locations on the same node are joined by a straight line. A
    vehicle drives each road segment at ``min(speed_scale * segment free-flow speed, vehicle speed)`` along
    that shortest-distance path, and the snap legs at ``min(SNAP_SPEED_KMH, vehicle speed)``. Every pair that
    involves a location more than ``max_snap_m`` from the graph (outside the extract, out at sea) uses
    :class:`~solver.travel.GreatCircleTravelModel` with ``fallback_circuity``.

    The instance holds only its parameters, so it pickles cheaply; each process loads the graph once
    (:meth:`RoadNetwork.from_pbf` caches it).

    Parameters
    ----------
    pbf_path
        OpenStreetMap extract (``.osm.pbf``).
    max_snap_m
        Largest distance (metres) from a location to its graph node for the road network to apply. Default 500.
    fallback_circuity
        Circuity of the great-circle fallback. Default 1.3.
    speed_scale
        Multiplier on the free-flow speed of every road segment (e.g. 0.8 for daytime traffic). Default 1.0.

    Raises
    ------
    FileNotFoundError
        If ``pbf_path`` does not exist.
    ValueError
        If a number is not positive (``max_snap_m`` may be 0).
    """

    pbf_path: str
    max_snap_m: float = 500.0
    fallback_circuity: float = 1.3
    speed_scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "pbf_path", str(self.pbf_path))
        if not Path(self.pbf_path).is_file():
            raise FileNotFoundError(f"no OpenStreetMap extract at {self.pbf_path}")
        if not (isinstance(self.max_snap_m, numbers.Real) and math.isfinite(self.max_snap_m) and self.max_snap_m >= 0):
            raise ValueError(f"max_snap_m must be a number >= 0, got {self.max_snap_m!r}")
        _check_positive("fallback_circuity", self.fallback_circuity)
        _check_positive("speed_scale", self.speed_scale)

    @property
    def network(self) -> RoadNetwork:
        """The road graph (loaded on first use, then cached in this process)."""
        return RoadNetwork.from_pbf(self.pbf_path)

    @property
    def version(self) -> str:
        """``"osm:<file stem>:<digest>"``; the digest covers the file's bytes and this model's parameters."""
        resolved = Path(self.pbf_path).resolve()
        digest = hashlib.sha256(_file_digest(str(resolved), resolved.stat().st_mtime_ns).encode())
        digest.update(repr((self.max_snap_m, self.fallback_circuity, self.speed_scale, SNAP_SPEED_KMH)).encode())
        stem = resolved.name.removesuffix(".pbf").removesuffix(".osm")
        return f"osm:{stem}:{digest.hexdigest()[:10]}"

    def _snap(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node, snap distance (m) and whether the road network applies, per location."""
        node, snap_m = self.network.snap(lat, lon)
        return node, snap_m, snap_m <= self.max_snap_m

    def matrices(self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float]) -> TravelMatrices:
        """Integer distance and duration matrices between all locations, one pair per speed.

        Parameters
        ----------
        lat, lon
            Shape ``(n,)``, decimal degrees.
        speeds_kmh
            Distinct positive vehicle speeds in km/h, one routing profile each.

        Returns
        -------
        TravelMatrices
            Whole metres and seconds, zero diagonal. Distances are the same for every profile (the path is the
            shortest by distance); road matrices are asymmetric where one-way streets make them so. Each entry
            depends only on its two locations, so a subset of locations gives the same numbers.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        fallback = GreatCircleTravelModel(circuity=self.fallback_circuity).matrices(lat, lon, speeds_kmh)
        speeds = fallback.speeds_kmh
        distance = np.array(fallback.distance_m[0] if speeds else np.zeros((lat.shape[0],) * 2, dtype=np.int64))
        duration = np.array(fallback.duration_s)
        node, snap_m, on_road = self._snap(lat, lon)
        idx = np.flatnonzero(on_road)
        if idx.shape[0] == 0:
            return TravelMatrices(
                distance_m=np.broadcast_to(distance, duration.shape), duration_s=duration, speeds_kmh=speeds
            )
        unique_nodes, which = np.unique(node[idx], return_inverse=True)
        road_m, road_s = self.network.road_metrics(unique_nodes, unique_nodes, speeds, self.speed_scale)

        snap = snap_m[idx]
        same_node = which[:, None] == which[None, :]
        direct_m = haversine_m(lat[idx, None], lon[idx, None], lat[None, idx], lon[None, idx])
        leg_m = snap[:, None] + road_m[which[:, None], which[None, :]] + snap[None, :]
        metres = np.where(same_node, direct_m, leg_m)
        block = np.ix_(idx, idx)
        distance[block] = np.rint(metres).astype(np.int64)
        off_road_m = np.where(same_node, direct_m, snap[:, None] + snap[None, :])
        for p, v in enumerate(speeds):
            seconds = off_road_m * 3.6 / min(SNAP_SPEED_KMH, v)
            seconds = seconds + np.where(same_node, 0.0, road_s[p][which[:, None], which[None, :]])
            duration[p][block] = np.rint(seconds).astype(np.int64)
        return TravelMatrices(
            distance_m=np.broadcast_to(distance, duration.shape), duration_s=duration, speeds_kmh=speeds
        )

    def paths(self, lat: Sequence[float], lon: Sequence[float]) -> list[list[tuple[float, float]]]:
        """Geometry of each leg between consecutive locations (a route: depot first and last).

        Parameters
        ----------
        lat, lon
            Shape ``(n,)``, decimal degrees, in visiting order.

        Returns
        -------
        list of list of (float, float)
            ``n - 1`` polylines of ``(lon, lat)`` vertices. A road leg runs from the location along its snap
            leg, the shortest-distance road path and the other snap leg to the next location; its haversine
            length is the matrix distance (before rounding). A fallback leg, or one between two locations on the
            same node, is the straight line.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.shape[0] < 2:
            return []
        node, _, on_road = self._snap(lat, lon)
        network = self.network
        legs = []
        for k in range(lat.shape[0] - 1):
            start, end = (float(lon[k]), float(lat[k])), (float(lon[k + 1]), float(lat[k + 1]))
            if on_road[k] and on_road[k + 1] and node[k] != node[k + 1]:
                via = network.road_path(int(node[k]), int(node[k + 1]))
                legs.append([start, *((float(network.lon[i]), float(network.lat[i])) for i in via), end])
            else:
                legs.append([start, end])
        return legs
