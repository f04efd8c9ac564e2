"""alertbot: Alertmanager-exact alert routing and on-call chatops."""

__version__ = "0.1.0"
