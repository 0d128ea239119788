# The README's commands. `make plan` is the main job offline; `make test` runs every tier.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python

.PHONY: plan deps docs pictures test test-unit test-agent test-apm test-remote e2e demo plan-snapshot package-schema app-wheels app-wheels-lock snapshot bench bench-e2e bench-fleet graph-snapshot bench-drift adopt drift mutate clean

plan: $(VENV)/.installed
	$(PY) -m tools.plan

$(VENV)/.installed: requirements.txt tests/requirements/dev.txt tests/requirements/standin.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r tests/requirements/dev.txt -r tests/requirements/standin.txt
	touch $@

venv-agent/.installed: tests/requirements/agent.txt
	test -x venv-agent/bin/python || $(PYTHON) -m venv venv-agent
	venv-agent/bin/python -m pip install -q -r tests/requirements/agent.txt
	touch $@

venv-apm/.installed: tests/requirements/apm.txt app/requirements.txt
	test -x venv-apm/bin/python || $(PYTHON) -m venv venv-apm
	venv-apm/bin/python -m pip install -q -r tests/requirements/apm.txt
	touch $@

venv-mutate-agent/.installed: tests/requirements/mutate-agent.txt tests/requirements/agent.txt
	test -x venv-mutate-agent/bin/python || $(PYTHON) -m venv venv-mutate-agent
	venv-mutate-agent/bin/python -m pip install -q -r tests/requirements/mutate-agent.txt
	touch $@

venv-mutate/.installed: tests/requirements/mutate.txt tests/requirements/dev.txt tests/requirements/standin.txt
	test -x venv-mutate/bin/python || $(PYTHON) -m venv venv-mutate
	venv-mutate/bin/python -m pip install -q -r tests/requirements/mutate.txt
	touch $@

policy/venv/.installed: policy/requirements.txt
	test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install -q -r policy/requirements.txt
	touch $@

.github/node_modules/.installed: .github/package.json .github/package-lock.json
	npm ci --prefix .github --no-audit --no-fund --loglevel=error
	touch $@

# Everything the tiers need but the real engine: the Debian packages (.ci/debian-packages.sh,
# as root or through sudo), the virtualenvs and the workflow linter's node_modules.
ENVS := $(VENV)/.installed venv-agent/.installed venv-apm/.installed policy/venv/.installed \
	.github/node_modules/.installed
deps:
	.ci/debian-packages.sh
	$(MAKE) --no-print-directory $(ENVS)

# Each tier's pytest writes its counts to build/test-results/<tier>.json (tests/conftest.py);
# the line after the run sums them up: tiers, skips by reason, the command that runs them.
# `make test` runs every tier, even after one fails, and ends with one line for all of them.
RESULTS := build/test-results
TEST_TIERS := unit agent apm e2e remote
tier = rm -f $(RESULTS)/$(1).json; TEST_RESULTS=$(RESULTS)/$(1).json $(2); status=$$?; \
	$(if $(IN_TEST),,$(PYTHON) -m tests.summary $(1);) exit $$status

# e2e skips (one line saying what is missing) where no `pulumi` CLI and plugins are installed.
# The virtualenvs first, one at a time (a tier whose venv failed fails on its own); then the
# tiers, TEST_JOBS (default 2) at a time, each one's output captured and printed whole, in
# this order (tests/tiers.py); TEST_JOBS=1 runs them one after another.
test:
	@rm -rf $(RESULTS); $(MAKE) --no-print-directory -k $(ENVS) || true; \
	MAKE="$(MAKE)" $(PYTHON) -m tests.tiers $(TEST_TIERS)

test-unit: $(VENV)/.installed policy/venv/.installed .github/node_modules/.installed
	@$(call tier,unit,$(PY) -m pytest -n 2 tests/unit)

# Two pytest-xdist workers; test_database_sql.py's tests on one of them (loadgroup), so its
# throwaway servers start once.
test-agent: venv-agent/.installed
	@$(call tier,agent,venv-agent/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup tests/agent)

test-apm: venv-apm/.installed
	@$(call tier,apm,venv-apm/bin/python -m pytest -p no:cacheprovider -n 2 tests/apm)

# The plan's remote commands over real SSH to the SSH test hosts (root: namespaces, sshd).
# Two pytest-xdist workers, a module (its host set and life cycle) on one worker
# (loadscope; the modules with most tests first): most of each module's time is one
# command after another, waiting on SSH sessions, sshd and the database servers.
test-remote: $(VENV)/.installed venv-agent/.installed
	@$(call tier,remote,$(PY) -m pytest -p no:cacheprovider -n 2 --dist loadscope tests/remote)

# The life cycle through the real engine (Automation API) against the stand-ins.
# Without an engine both modules skip at collection: pytest's exit 5 ("no tests ran") is
# that skip, not a failure.
e2e: $(VENV)/.installed venv-agent/.installed policy/venv/.installed
	@$(call tier,e2e,$(PY) -m pytest -p no:cacheprovider -p no:xdist tests/e2e || [ $$? -eq 5 ])

demo: $(VENV)/.installed venv-agent/.installed policy/venv/.installed
	$(PY) -m tests.e2e.demo

# Mutation testing of rules/, settings.py, agent_files/ and components/ against the unit tier
# (setup.cfg, docs/mutation-testing.md); results are kept in mutants/, so a rerun tests only
# changed functions. The report (build/mutation/) fails when a module misses its goal.
# MODULE=rules|settings|agent_files|components: that module only (CI runs one job per module;
# naming mutants makes mutmut test them again even where mutants/ has their results).
# mutants/policy first: mutmut copies setup.cfg's also_copy files without making their folders.
# The tests run inside mutants/, where ../shared/datadog-cassettes is not beside them: the
# recordings are named by their absolute path when they are beside the checkout, so the replay
# and catalog round-trip tests run (and kill mutants) instead of skipping.
CASSETTES := $(wildcard $(abspath ../shared/datadog-cassettes))
# Then, for agent_files/ (or all modules), the agent tier's pass over the unit tier's
# survivors in the modules it covers (tests/mutation/agent_tier.py: root and the database
# servers, as make test-agent; it skips with one line without them).
mutate: venv-mutate/.installed $(if $(filter-out agent_files,$(MODULE)),,venv-mutate-agent/.installed)
	mkdir -p mutants/policy
	$(if $(DD_STANDIN_CASSETTE_DIR),,$(if $(CASSETTES),DD_STANDIN_CASSETTE_DIR=$(CASSETTES))) \
	MUTATE_BUDGET_SECONDS=$(or $(BUDGET),20) \
	venv-mutate/bin/python -m mutmut run --max-children $(or $(JOBS),2) $(if $(MODULE),"$(MODULE).*")
	$(if $(filter-out agent_files,$(MODULE)),,venv-mutate-agent/bin/python -m tests.mutation.agent_tier --jobs $(or $(JOBS),2))
	venv-mutate/bin/python -m tests.mutation.report $(if $(MODULE),--module $(MODULE))

# The app's wheels for the hosts (agent_files/wheels.py, docs/host-install.md): fetched from
# PyPI once per set into build/app-wheels/ (`pulumi up` does the same before it declares
# anything); app-wheels-lock resolves app/requirements.txt again into app/wheels.sha256.
app-wheels: $(VENV)/.installed
	$(PY) -m tools.app_wheels

app-wheels-lock: $(VENV)/.installed
	$(PY) -m tools.app_wheels --lock

# The committed offline-plan snapshot (tests/snapshots/dev-plan.json), rewritten from the plan.
plan-snapshot: $(VENV)/.installed
	UPDATE_SNAPSHOT=1 $(PY) -m pytest -q tests/unit/test_plan.py -k snapshot

# The committed package schema (tests/snapshots/package-schema.json), from the SDK's analyzer.
package-schema: $(VENV)/.installed
	UPDATE_SNAPSHOT=1 $(PY) -m pytest -q tests/unit/test_package_schema.py -k snapshot

# docs/configuration.md from Pulumi.yaml's config block and settings.py; docs/package.md's
# reference from the package schema.
docs: $(VENV)/.installed
	$(PY) -m tools.config_reference
	$(PY) -m tools.package_reference

# docs/*.svg: the downtimes' week and the monitor's simulated week, from rules/.
pictures: $(VENV)/.installed
	$(PY) -m tools.pictures

# the old name of plan-snapshot (graph-snapshot is the Datadog graph)
snapshot: plan-snapshot

# Benchmarks print figures (tests/bench/): goals, not assertions.
bench: $(VENV)/.installed
	$(PY) -m tests.bench.offline

# make graph-snapshot DASHBOARD=<id> [MINUTES=5] [STACK=dev]: see the README
graph-snapshot: $(VENV)/.installed
	$(PY) -m tools.graph_snapshot --dashboard "$(DASHBOARD)" --stack $(or $(STACK),dev) --minutes $(or $(MINUTES),5)

# ARGS: the tools' options, e.g. make drift ARGS="--identity ~/.ssh/id_ed25519"
adopt: $(VENV)/.installed
	$(PY) -m tools.adopt $(ARGS)

drift: $(VENV)/.installed
	$(PY) -m tools.drift $(ARGS)

# Drift check time for 1 and 20 SSH test hosts (root: the hosts are namespaces).
bench-drift: $(VENV)/.installed venv-agent/.installed
	$(PY) -m tests.bench.drift

bench-e2e: $(VENV)/.installed venv-agent/.installed policy/venv/.installed
	$(PY) -m tests.bench.e2e

# A fleet's figures: 1, 5 and 20 SSH test hosts in one stack and as group stacks, up and
# no-op, controller and host CPU apart (cgroups), then the model of 100 and 1,000 hosts
# (docs/fleet.md, "Figures"). Root. Through the real engine where it is installed, else
# through the remote tier's engine, said in one line. ARGS: e.g. ARGS="--hosts 1,5".
bench-fleet: $(VENV)/.installed venv-agent/.installed
	$(PY) -m tests.bench.fleet $(ARGS)

clean:
	rm -rf $(VENV) venv-agent venv-apm venv-mutate venv-mutate-agent policy/venv .github/node_modules .pytest_cache mutants build
