#!/usr/bin/env bash
# Prepares what benchmarks/gpu_attack.py needs on the (offline) GPU machine, in the git-ignored .carry/:
#   .carry/gue/<task>/test.csv     the three GUE test splits (copied from ../shared, never committed)
#   .carry/hf/dnabert2-tokenizer   the real DNABERT-2 BPE tokenizer (../shared/fixtures/hf)
#   .carry/hf/*-remote-code        DNABERT-2's and HyenaDNA's own model code and configs (no weights; the
#                                  benchmark builds random-weight checkpoints from them: benchmarks/victims.py)
#   .carry/wheels/*.whl, setup.sh  the transformers 4.57 stack the H200 image lacks (it has transformers 5.x) and
#                                  the lines that install it there: `source .carry/setup.sh`
#   .carry/ta_wheels/*.whl         textattack 0.3.11 and the packages its `import textattack` loads that the
#                                  H200 image lacks (cp312 wheels; the sdist-only ones built here, pure Python)
#   .carry/ta_standins/{flair,jieba}  import-time stand-ins for the two textattack imports too large to carry
#                                  (jieba's dictionary is 42 MB installed; flair pulls boto3/botocore/gdown/...).
#                                  The DNA attacks never call them: any call raises, so a run cannot use them silently.
# Run from the repository root: bash benchmarks/gpu_carry.sh   (then carry .carry/gue .carry/hf .carry/ta_wheels
# .carry/ta_standins .carry/wheels .carry/setup.sh; check `du -sh .carry` against the 64 MiB limit).
# The H200 image has einops (DNABERT-2's code needs it) and triton.
set -euo pipefail
SHARED=${SHARED:-../shared}
mkdir -p .carry/gue .carry/hf .carry/ta_wheels .carry/ta_standins
for task in prom/prom_core_all tf/0 prom/prom_300_tata; do
  mkdir -p ".carry/gue/$task" && cp "$SHARED/data/gue/$task/test.csv" ".carry/gue/$task/test.csv"
done
rm -rf .carry/hf/dnabert2-tokenizer
cp -r "$SHARED/fixtures/hf/dnabert2-117m-config" .carry/hf/dnabert2-tokenizer
for code in dnabert2-117m-remote-code hyenadna-small-32k-remote-code; do
  rm -rf ".carry/hf/$code" && cp -r "$SHARED/fixtures/hf/$code" ".carry/hf/$code"
done
chmod -R u+w .carry/hf .carry/gue

PLATFORM="--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_5_x86_64"
WHEELS="textattack==0.3.11 OpenHowNet==2.0 bert-score==0.3.13 datasets==5.0.1 dill==0.4.1 multiprocess==0.70.19
  nltk==3.10.4 lru-dict==1.4.1 language_tool_python==3.4.0 lemminflect==0.2.3 num2words==0.5.14 terminaltables==3.1.10
  more-itertools==11.2.1 editdistance==0.8.1 Levenshtein==0.27.5 RapidFuzz==3.14.6 anytree==2.13.0 toml==0.10.2"
SDIST_ONLY="word2number==1.1 pinyin==0.4.0 langdetect==1.0.9 docopt==0.6.2"
STACK="transformers==4.57.6 tokenizers==0.22.2 huggingface_hub==0.36.2 hydra-core==1.3.8 omegaconf==2.3.1
  biopython==1.88 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
  typing_extensions==4.16.0 captum==0.9.0"  # captum: FIMBA's Integrated Gradients
mkdir -p .carry/wheels
# shellcheck disable=SC2086
python -m pip download -q --no-deps --only-binary=:all: $PLATFORM -d .carry/wheels $STACK
python -m pip wheel -q --no-deps -w .carry/wheels antlr4-python3-runtime==4.9.3  # sdist only; hydra needs it
cat > .carry/setup.sh <<'EOF'
python3 -m pip install --root-user-action=ignore -q --no-deps --no-index .carry/wheels/*.whl 2>&1 | tail -2
export PYTHONPATH=$PWD
python3 -c "import transformers, torch; print(transformers.__version__, torch.__version__, torch.cuda.get_device_name())"
EOF
# shellcheck disable=SC2086
python -m pip download -q --no-deps --only-binary=:all: $PLATFORM -d .carry/ta_wheels $WHEELS
# shellcheck disable=SC2086
python -m pip wheel -q --no-deps -w .carry/ta_wheels $SDIST_ONLY

mkdir -p .carry/ta_standins/flair .carry/ta_standins/jieba
cat > .carry/ta_standins/flair/__init__.py <<'EOF'
"""Stand-in for flair on the GPU benchmark machine: textattack imports it at import time (POS tagging for
word-level constraints); DNA attacks never use it. Any use raises."""
from . import data  # noqa: F401
device = None
EOF
cat > .carry/ta_standins/flair/data.py <<'EOF'
class _Absent:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("flair is a stand-in on this machine (benchmarks/gpu_carry.sh)")


class Tokenizer:  # subclassed at import time by textattack.shared.utils.strings
    pass


class Sentence(_Absent):
    pass
EOF
cat > .carry/ta_standins/flair/models.py <<'EOF'
from flair.data import _Absent


class SequenceTagger(_Absent):
    @classmethod
    def load(cls, *args, **kwargs):
        raise RuntimeError("flair is a stand-in on this machine (benchmarks/gpu_carry.sh)")
EOF
cat > .carry/ta_standins/jieba/__init__.py <<'EOF'
"""Stand-in for jieba (Chinese word segmentation) on the GPU benchmark machine; any use raises."""


def cut(*args, **kwargs):
    raise RuntimeError("jieba is a stand-in on this machine (benchmarks/gpu_carry.sh)")
EOF
du -sh .carry .carry/*
