install:
	bash scripts/setup.sh dev

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

test:
	bash scripts/test.sh

run:
	bash scripts/run-local.sh

bench:
	.venv/bin/python -m bench.throughput

.PHONY: install lint test run bench
