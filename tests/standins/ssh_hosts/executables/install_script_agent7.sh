#!/bin/bash
# Stand-in for Datadog's Agent 7 install script, served by the stand-in curl.
# What it models, from DataDog/agent-linux-install-script (install_script.sh.template) and
# https://docs.datadoghq.com/agent/basic_agent_usage/deb/:
# - DD_API_KEY is required from the environment; DD_SITE is optional;
# - the datadog-agent package creates the dd-agent user and /etc/datadog-agent with
#   datadog.yaml.example; the script copies it to datadog.yaml when absent and writes the
#   API key into it (`sed 's/api_key:.*/api_key: $apikey/'`), site too;
# - the package ships /opt/datadog-agent and /usr/bin/datadog-agent, and the Agent starts.
set -euo pipefail
umask 022  # dpkg installs with the package's modes, whatever the caller's umask (install.sh: 077)
echo "installer DD_API_KEY=${DD_API_KEY:+set} DD_SITE=${DD_SITE:-}" >>/run/standin/installer.log
[ -n "${DD_API_KEY:-}" ] || { echo "API key not available in DD_API_KEY environment variable." >&2; exit 1; }
# (@DD_AGENT_UID@: the uid the test host reserved for dd-agent)
id dd-agent >/dev/null 2>&1 || useradd --system --user-group --uid @DD_AGENT_UID@ \
  --home-dir /opt/datadog-agent --no-create-home --shell /usr/sbin/nologin dd-agent
mkdir -p /opt/datadog-agent/bin/agent /etc/datadog-agent/checks.d /etc/datadog-agent/conf.d
cp /usr/local/share/standin/datadog-agent /opt/datadog-agent/bin/agent/agent
ln -sf /opt/datadog-agent/bin/agent/agent /usr/bin/datadog-agent
printf '# packaged datadog.yaml.example\napi_key:\n# site: datadoghq.com\n' >/etc/datadog-agent/datadog.yaml.example
if [ ! -e /etc/datadog-agent/datadog.yaml ]; then
  cp /etc/datadog-agent/datadog.yaml.example /etc/datadog-agent/datadog.yaml
fi
sed -i "s/api_key:.*/api_key: $DD_API_KEY/" /etc/datadog-agent/datadog.yaml
[ -z "${DD_SITE:-}" ] || sed -i "s/# site:.*/site: $DD_SITE/" /etc/datadog-agent/datadog.yaml
chown -R dd-agent:dd-agent /etc/datadog-agent
chmod 640 /etc/datadog-agent/datadog.yaml
systemctl restart datadog-agent
echo "Your Agent is running and functioning properly."
