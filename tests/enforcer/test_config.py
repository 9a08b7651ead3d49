"""Options from the command line or ENFORCER_* variables; errors never echo a secret."""

from __future__ import annotations

import pytest

from enforcer.config import parse_config

from .support import SECOND_SECRET, SECRET, TOKEN

ENV = {"ENFORCER_SECRETS": f"{SECRET},{SECOND_SECRET}", "ENFORCER_TOKEN": TOKEN,
       "ENFORCER_ALLOWLIST_URL": "http://127.0.0.1:5000/api/v1/enforcement/allowlist",
       "ENFORCER_STATE_DIR": "/tmp/x", "ENFORCER_LISTEN": "[::1]:8125",
       "ENFORCER_APPLY": "true", "ENFORCER_RESYNC_INTERVAL": "60"}


def test_everything_can_come_from_the_environment():
    config = parse_config([], ENV)

    assert (config.host, config.port, config.apply, config.resync_interval) == (
        "::1", 8125, True, 60.0)
    assert config.secrets == (SECRET, SECOND_SECRET)
    assert SECRET not in repr(config) and TOKEN not in repr(config)


def test_command_line_wins_over_the_environment():
    config = parse_config(["--secret", SECOND_SECRET, "--listen", "127.0.0.1:9000"], ENV)

    assert (config.secrets, config.port) == ((SECOND_SECRET,), 9000)


def test_token_and_secrets_from_files(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "secrets").write_text(f"{SECRET}\n\n{SECOND_SECRET}\n")
    env = {k: v for k, v in ENV.items() if k not in ("ENFORCER_SECRETS", "ENFORCER_TOKEN")}

    config = parse_config(["--token-file", str(tmp_path / "token"),
                           "--secrets-file", str(tmp_path / "secrets")], env)

    assert (config.token, config.secrets) == (TOKEN, (SECRET, SECOND_SECRET))


@pytest.mark.parametrize("missing", ["ENFORCER_SECRETS", "ENFORCER_TOKEN",
                                     "ENFORCER_ALLOWLIST_URL", "ENFORCER_STATE_DIR"])
def test_missing_setting_exits_with_a_usage_error(missing, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_config([], {k: v for k, v in ENV.items() if k != missing})

    assert exited.value.code == 2
    assert TOKEN not in capsys.readouterr().err
