"""Shoplens: an open-source dbt analytics warehouse for e-commerce mini programs."""

__version__ = "0.1.0"
