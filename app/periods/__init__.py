"""Reporting periods: creating and closing them, and the dashboard of where every unit stands."""
