"""The Streamlit UI: shared state, widgets and components. Pages in `pages/` stay thin."""
