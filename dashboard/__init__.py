"""Streamlit dashboard: reads the published serving snapshot, never the warehouse.

``app.py`` routes to the pages in ``app_pages/``; ``snapshot`` resolves the published snapshot, ``queries``
holds all SQL, and ``layers`` builds the map and tables from DataFrames as pure functions.
"""
