from tests.fixtures.prometheus import prometheus_mlops  # noqa: F401
