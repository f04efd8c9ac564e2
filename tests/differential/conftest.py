def pytest_configure(config):
    config.addinivalue_line(
        "markers", "differential: side by side with the real Alertmanager 0.25 (timed; select with -m differential)")
