"""lastmile dashboard: page config and routing only; the pages live in ``app_pages/``."""

import streamlit as st

st.set_page_config(page_title="lastmile", page_icon=":material/local_shipping:", layout="wide")

st.navigation(
    [
        st.Page("app_pages/plan.py", title="Plan", icon=":material/map:", default=True),
        st.Page("app_pages/live.py", title="Live", icon=":material/my_location:"),
        st.Page("app_pages/manifests.py", title="Manifests & exports", icon=":material/description:"),
        st.Page("app_pages/scenarios.py", title="Scenarios", icon=":material/science:"),
        st.Page("app_pages/overview.py", title="Overview", icon=":material/insights:"),
        st.Page("app_pages/performance.py", title="Performance", icon=":material/speed:"),
        st.Page("app_pages/plan_vs_actual.py", title="Plan vs actual", icon=":material/compare_arrows:"),
        st.Page("app_pages/customers.py", title="Customers", icon=":material/groups:"),
        st.Page("app_pages/models.py", title="Learned models", icon=":material/model_training:"),
        st.Page("app_pages/data_health.py", title="Data health", icon=":material/health_and_safety:"),
    ],
    position="top",
).run()
