"""Streamlit building blocks shared by the pages: cached resources, run views, the training panel."""
