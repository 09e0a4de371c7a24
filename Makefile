# Two commands do all set-up on a fresh machine: `make playground` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: playground demo test lint bench clean translations

# The virtual environment is (re)built whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The bot in your browser at http://127.0.0.1:$(PORT)/ (no Telegram token, no network); Ctrl-C stops it.
PORT ?= 8080
playground: $(VENV)/.installed
	$(BIN)/fashionbot playground --port $(PORT)

# The command-line demo: recommendations for the example photos, printed.
demo: $(VENV)/.installed
	$(BIN)/fashionbot demo

# pytest exits 5 when it collects no test at all; that is not a failure of the code.
test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# Speed on this machine (BENCHMARKS.md): model, index build, query latency, FAISS at 100 k vectors.
bench: $(VENV)/.installed
	$(BIN)/fashionbot bench --quick

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache

# After changing or adding a user-facing text: refresh the template and every language's catalog
# (docs/TRANSLATING.md). A new language: $(BIN)/pybabel init -D fashionbot -i chat/locales/fashionbot.pot -d chat/locales -l LANG
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k NP_:1c,2 -k N_ --no-location --sort-output --project fashionbot \
	    --copyright-holder "fashionbot contributors" -o chat/locales/fashionbot.pot .
	$(BIN)/pybabel update -D fashionbot -i chat/locales/fashionbot.pot -d chat/locales --width 120
