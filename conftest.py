pytest_plugins = ["runway_devstack.testing"]
