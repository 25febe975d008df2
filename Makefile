# The two commands of the README, and a few helpers.  Each sets up whatever
# is missing first (scripts/setup.sh), so both work on a fresh clone.
.PHONY: run test setup stop lint bench-fins bench-idle bench-reports readme i18n

run:     ## PostgreSQL + PLC simulator (plant mode) + Odoo 14 with the demo
	scripts/run.sh

test:    ## every test, in one pytest run
	scripts/test.sh

setup:   ## only prepare: Odoo source, PostgreSQL, .venv
	scripts/setup.sh

stop:    ## stop the project's PostgreSQL
	scripts/pg.sh stop

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/pylint --rcfile=.pylintrc scada_plc_bridge scada_plc_bridge_maintenance

bench-fins:
	.venv/bin/python benchmarks/bench_fins_poll.py

bench-idle:  ## idle cost of 10 PLCs: CPU, commits/s, FINS round trips per poll
	.venv/bin/python benchmarks/bench_idle.py

bench-reports:  ## the reports at 100 000 batches and 2 000 failures, against 1 000 (ratio); goal < 1 s
	.venv/bin/python benchmarks/bench_reports.py

readme:  ## the addon's README.rst and description page from its readme/ fragments
	.venv/bin/python scripts/gen_addon_readme.py

i18n:    ## export the translation template (then update i18n/id.po)
	scripts/i18n_export.sh
