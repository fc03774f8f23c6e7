"""The Hugging Face hub: the one place GenoArmory downloads, and the one cache every command reads.

Cache layout (`cache_dir` is the config's `cache_dir`: $GENOARMORY_CACHE, else ~/.cache/genoarmory):

    <cache_dir>/hub/                       huggingface_hub's own cache format (what HF_HUB_CACHE holds)
        models--<org>--<name>/refs/<revision>          the commit id a branch or tag resolved to
        models--<org>--<name>/snapshots/<commit>/...   the files: config.json, model.safetensors, tokenizer ...
        datasets--<org>--<name>/...                    the same for datasets (GenoAdv, GUE)
    <cache_dir>/gue/<group>/<task>/{train,dev,test}.csv   GUE laid out as it ships (genoarmory.data.gue reads it)

`fetch(repo_id, repo_type, revision, cache_dir)` resolves `revision` through refs/ when the hub cannot be
reached, so whatever `python -m genoarmory download` put there, from the hub or from `--source`, is found
again with no network. A `--source` copy is stored under a content-derived 40-hex id in snapshots/ (not a
hub commit) with refs/<revision> pointing at it; once online, fetching a branch moves the ref to the hub's
real commit. A pinned 40-hex revision is used as the snapshot id itself.

Parts: cache.py (fetch into the cache, offline resolution, one-line errors), snapshots.py (folders and
archives imported for air-gapped sites), gue.py (dataset cards' configs, GUE's CSV layout).
"""

from genoarmory.hub.cache import GENOADV_REPO, GUE_REPO, default_cache_dir, fetch, hub_cache, is_offline
from genoarmory.hub.gue import (GUE_REVISION, card_configs, config_split_files, fetch_gue, gue_cache,
                                gue_config_name, gue_task_dir, lay_out_gue_task)
from genoarmory.hub.snapshots import extract_archive, import_snapshot, unpack_source

__all__ = ["GENOADV_REPO", "GUE_REPO", "GUE_REVISION", "card_configs", "config_split_files", "default_cache_dir",
           "extract_archive", "fetch", "fetch_gue", "gue_cache", "gue_config_name", "gue_task_dir", "hub_cache",
           "import_snapshot", "is_offline", "lay_out_gue_task", "unpack_source"]
