"""SSH through an ssh-agent instead of a private key in config (issue 18, item 6).

`datadog-stack:sshAgentSocket` names the agent's socket; pulumi-command dials it for every
remote command (`agentSocketPath`: net.Dial("unix", path), then the agent's signers:
pulumi-command provider/pkg/provider/remote/connection.go, `SShConfig`). Exactly one of
it and `sshPrivateKey` is set; each bad combination is one line naming the key.
"""
from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml

import settings
from domain import Settings
from pulumi_config import PulumiConfig
from tools.plan import StackConfig, run

pytestmark = pytest.mark.unit

DEV = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
SOCKET = "/run/user/1000/ssh-agent.socket"
KEY = f"{settings.NAMESPACE}:sshPrivateKey"
AGENT = f"{settings.NAMESPACE}:sshAgentSocket"
REMOTE = "command:remote:Command"


def stack_file(tmp_path: Path, **config) -> Path:
    """The dev stack file with some keys set, as a user would write it."""
    document = yaml.safe_load(DEV.read_text())
    document["config"].update(config)
    path = tmp_path / "Pulumi.agent.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def load(values: dict[str, str | None]) -> Settings:
    """Settings of the dev stack with these keys set (None: unset); secrets marked secret."""
    config = StackConfig.from_file(DEV)
    merged = {**config.values, **values}
    merged = {k: v for k, v in merged.items() if v is not None}
    pulumi.runtime.set_all_config(merged, [k for k in config.secret_keys if k in merged])
    return settings.load(PulumiConfig(), "dev")


def test_an_agent_socket_is_used_instead_of_a_private_key():
    loaded = load({AGENT: SOCKET, KEY: None})
    assert (loaded.ssh_agent_socket, loaded.secrets.ssh_private_key) == (SOCKET, None), \
        "with sshAgentSocket the commands log in through the agent and no key is read"


def test_without_an_agent_socket_the_private_key_is_used():
    loaded = load({})
    assert loaded.ssh_agent_socket == "" and loaded.secrets.ssh_private_key is not None


BAD = [  # (case, values, the key named, a word the line must hold)
    ("neither a key nor a socket", {KEY: None}, KEY, "sshAgentSocket"),
    ("both a key and a socket", {AGENT: SOCKET}, AGENT, "only one"),
    ("a relative socket path", {AGENT: "agent.sock", KEY: None}, AGENT, "absolute"),
    ("a socket under ~", {AGENT: "~/.ssh/agent.sock", KEY: None}, AGENT, "absolute"),
    ("a socket from $SSH_AUTH_SOCK", {AGENT: "$SSH_AUTH_SOCK", KEY: None}, AGENT, "absolute"),
    ("a socket path ending in a newline", {AGENT: SOCKET + "\n", KEY: None}, AGENT, "absolute"),
]


@pytest.mark.parametrize("case,values,key,word", BAD, ids=[b[0] for b in BAD])
def test_a_bad_ssh_login_is_one_line_naming_the_key(case, values, key, word):
    with pytest.raises(settings.ConfigError) as caught:
        load(values)
    assert caught.value.key == key and word in str(caught.value), f"{case}: {caught.value}"
    assert "\n" not in str(caught.value).replace(repr(SOCKET + "\n"), ""), \
        f"{case}: the error is a single line"


@pytest.fixture(scope="module")
def agent_plan(tmp_path_factory):
    """The offline plan of a stack file that sets sshAgentSocket and no private key, secret
    inputs unmasked (pulumi-command's SDK marks every `connection` secret)."""
    path = stack_file(tmp_path_factory.mktemp("stack"), **{AGENT: SOCKET})
    return run(StackConfig.from_file(path), "dev", created=True, mask=False)


def test_every_remote_command_logs_in_through_the_agent_socket(agent_plan):
    commands = [r for r in agent_plan.resources if r["type"] == REMOTE]
    assert commands, "the plan has remote commands"
    for command in commands:
        connection = command["inputs"]["connection"]
        assert connection.get("agentSocketPath") == SOCKET and "privateKey" not in connection, \
            f"{command['name']}: must log in through the agent, with no key"


def test_an_agent_stack_has_no_private_key_anywhere_in_its_plan(agent_plan):
    text = json.dumps(agent_plan.as_json())
    assert "privateKey" not in text and "PRIVATE KEY" not in text, \
        "with the agent no key material may enter the plan (or the state)"
