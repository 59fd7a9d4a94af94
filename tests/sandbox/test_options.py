"""Sandbox options: declared once, checked the same way from Python, the command line and
`POST /admin/config`, and bounded (a setting can never hang the sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import attrs
import httpx
import pytest
from sandbox_helpers import REPO_ROOT, running

from scaleapi.sandbox import Sandbox, SandboxOptions
from scaleapi.sandbox._config import Settings, runtime_options

BAD_CONFIG = [
    ({"latency_ms": 1e308}, "latency_ms"),
    ({"latency_ms": -1}, "latency_ms"),
    ({"latency_ms": "5"}, "latency_ms"),
    ({"callback_timeout": "inf"}, "callback_timeout"),
    ({"callback_timeout": 0}, "callback_timeout"),
    ({"callback_timeout": 1e9}, "callback_timeout"),
    ({"callback_backoff": 1e308}, "callback_backoff"),
    ({"callback_attempts": 10**6}, "callback_attempts"),
    ({"callback_attempts": 2.5}, "callback_attempts"),
    ({"complete_after": 1e308}, "complete_after"),
    ({"complete_after": "soon"}, "complete_after"),
    ({"fault_rate": True}, "fault_rate"),
    ({"fault_rate": 2}, "fault_rate"),
    ({"faults": ["404"]}, "faults"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**64}, "seed"),
    ({"retry_after": "1\r\nSet-Cookie: x=1"}, "retry_after"),
    ({"retry_after": ""}, "retry_after"),
    ({"retry_after": None}, "retry_after"),
]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@pytest.mark.parametrize(("change", "name"), BAD_CONFIG)
def test_bad_admin_config_is_a_400_naming_the_field(
    admin: httpx.Client, change: dict[str, Any], name: str
) -> None:
    before = admin.get("/config").json()
    answer = admin.post("/config", json=change)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status_code"] == 400
    assert body["error"].startswith(f"Invalid parameter {name}: "), body
    assert admin.get("/config").json() == before  # nothing changed


def test_non_finite_numbers_are_not_json(admin: httpx.Client) -> None:
    for raw in (b'{"latency_ms": 1e400}', b'{"latency_ms": NaN}', b'{"latency_ms": Infinity}'):
        answer = admin.post("/config", content=raw)
        assert answer.status_code == 400
        assert answer.json()["error"] == "The request body is not valid JSON."


def test_unknown_and_start_only_options_are_refused_at_run_time(admin: httpx.Client) -> None:
    for name in ("bogus", "db", "admin_token", "callback_auth_key", "spec"):
        answer = admin.post("/config", json={name: "x"})
        assert answer.status_code == 400
        assert answer.json()["error"] == f"Unknown parameter: {name}"


def test_the_typed_dict_lists_exactly_the_options() -> None:
    # Type checkers need a TypedDict for `Sandbox(**options)`; it must agree with Settings.
    assert set(SandboxOptions.__annotations__) == {f.name for f in attrs.fields(Settings)}


def test_every_option_is_a_command_line_option_of_both_commands() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    commands = (
        [sys.executable, "-m", "scaleapi.sandbox", "--help"],
        [sys.executable, "-m", "scaleapi", "sandbox", "--help"],
    )
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        for field in attrs.fields(Settings):
            assert flag(field.name) + " " in result.stdout, (command, field.name)


def test_command_line_values_are_the_run_time_config() -> None:
    given = {
        "latency_ms": 3.0,
        "fault_rate": 0.0,
        "faults": ["503", "drop"],
        "seed": 11,
        "retry_after": "NaN",
        "complete_after": 60.0,
        "callback_attempts": 2,
        "callback_backoff": 0.25,
        "callback_timeout": 1.5,
    }
    assert set(given) == set(runtime_options())  # a new run-time option is tested here too
    arguments: list[str] = []
    for name, value in given.items():
        text = ",".join(value) if isinstance(value, list) else str(value)
        arguments += [flag(name), text]
    with running(*arguments) as (_process, base_url), httpx.Client(trust_env=False) as raw:
        config = raw.get(base_url.removesuffix("/v1") + "/admin/config").json()
    assert config == given


@pytest.mark.parametrize(
    "arguments",
    [
        ["--latency-ms", "1e308"],
        ["--latency-ms", "inf"],
        ["--callback-timeout", "nan"],
        ["--fault-rate", "2"],
        ["--faults", "404"],
        ["--retry-after", ""],
        ["--callback-attempts", "x"],
    ],
)
def test_bad_command_line_values_exit_2_naming_the_flag(arguments: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "scaleapi.sandbox", "--port", "0", *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"argument {arguments[0]}:" in result.stderr
    assert result.stdout == ""


def test_python_options_are_checked_the_same_way() -> None:
    for change, name in BAD_CONFIG:
        with pytest.raises(ValueError, match=f"^{name} "):
            Sandbox(**change)
    with pytest.raises(TypeError, match="bogus"):
        Sandbox(bogus=1)  # type: ignore[call-arg]


def test_secrets_stay_out_of_reprs() -> None:
    settings = Settings(admin_token="t0p-s3cret", callback_auth_key="k3y-s3cret")
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in repr(Sandbox(admin_token="t0p-s3cret", callback_auth_key="k3y-s3cret"))
