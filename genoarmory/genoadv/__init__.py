"""GenoAdv: the adversarial DNA dataset built from attack runs, in the layout the published one uses.

    <dir>/README.md                      dataset card (YAML `configs:` / `data_files:` that `datasets` reads)
    <dir>/build.json                     what went in: runs, counts, rejected records, versions
    <dir>/<config>/train.parquet         clean train split + adversarial examples made from train examples
    <dir>/<config>/validation.parquet    clean dev split + adversarial examples made from dev examples
    <dir>/<config>/test.parquet          the task's CLEAN test split, unchanged
    <dir>/<config>/test_adversarial.parquet   adversarial examples made from test examples (robust evaluation)

One config per task (`tf_0`, `H3`, `motif_tata`, ...: `schema.config_name`). Where an adversarial example
goes is decided by the split of the example it was made from (the run's `dataset.split`, which every
record id repeats as its prefix, e.g. `test:17`), never by the attack run's name or order. Anything from
the test split — a clean test sequence, or an adversarial sequence derived from one — is kept out of
train and validation, so training on GenoAdv never sees the examples it is evaluated on.

Modules: `schema` (columns, names), `runs` (reading and checking attack runs), `build`, `card`,
`verify` (re-scoring against a victim), `load` (a GenoAdv config as a `Task`).
"""
