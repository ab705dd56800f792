"""The embedded demo world of lastmile: a parcel operation in Liechtenstein and its Rhine valley.

It stands in for the source systems of a real operation and writes the landing files of
``docs/data_contract.md`` section 1 (fleet master data and one order file per service date) and, by
playing a plan out under the world's hidden truth, those of section 4 (telematics pings, stop events,
ratings, weather observations and forecasts). :class:`LiveDay` plays a day step by step under a
:class:`Scenario` of disruptions, with plan versions published during the day, and writes the live drops of
``docs/replanning.md`` section 1.
"""

from simulator.disruptions import SCENARIO_NAMES, Scenario, no_disruptions, scenario
from simulator.execution import Execution, execute_plan
from simulator.execution_landing import execution_paths, write_execution
from simulator.fleet import VEHICLE_TYPES, VehicleType
from simulator.landing import orders_path, write_master_data, write_orders
from simulator.live import LiveDay, LiveDrop, day_outcome, write_drop
from simulator.orders import ORDER_COLUMNS, expected_orders, generate_orders
from simulator.scales import SCALES, Scale
from simulator.truth import Truth
from simulator.weather import DEFAULT_CLIMATE, Climate, Weather, simulate_weather
from simulator.world import Customer, Depot, Vehicle, World, build_world

__all__ = [
    "DEFAULT_CLIMATE",
    "ORDER_COLUMNS",
    "SCALES",
    "SCENARIO_NAMES",
    "VEHICLE_TYPES",
    "Climate",
    "Customer",
    "Depot",
    "Execution",
    "LiveDay",
    "LiveDrop",
    "Scale",
    "Scenario",
    "Truth",
    "Vehicle",
    "VehicleType",
    "Weather",
    "World",
    "build_world",
    "day_outcome",
    "execute_plan",
    "execution_paths",
    "expected_orders",
    "generate_orders",
    "no_disruptions",
    "orders_path",
    "scenario",
    "simulate_weather",
    "write_execution",
    "write_drop",
    "write_master_data",
    "write_orders",
]
