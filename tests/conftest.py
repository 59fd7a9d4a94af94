"""The SDK's behaviour tests run against the project's own sandbox, through the same
pytest plugin users enable in their conftest."""

pytest_plugins = ["scaleapi.sandbox.pytest_plugin"]
