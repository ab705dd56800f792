"""The embedded demo world of lastmile: a parcel operation in Liechtenstein and its Rhine valley.

It stands in for the source systems of a real operation and writes the landing files of
``docs/data_contract.md`` section 1: fleet master data and one order file per service date.
"""

from simulator.fleet import VEHICLE_TYPES, VehicleType
from simulator.landing import orders_path, write_master_data, write_orders
from simulator.orders import ORDER_COLUMNS, expected_orders, generate_orders
from simulator.scales import SCALES, Scale
from simulator.truth import Truth
from simulator.world import Customer, Depot, Vehicle, World, build_world

__all__ = [
    "ORDER_COLUMNS",
    "SCALES",
    "VEHICLE_TYPES",
    "Customer",
    "Depot",
    "Scale",
    "Truth",
    "Vehicle",
    "VehicleType",
    "World",
    "build_world",
    "expected_orders",
    "generate_orders",
    "orders_path",
    "write_master_data",
    "write_orders",
]
