"""Results at the bottom of the layers: typed records, their files, run folders, and safe writing.

- records.py  `AttackRecord` and `Status`: the schema of one attacked example
- jsonl.py    records.jsonl: append-only, fsynced, resumable, checked when read back
- run.py      `Run` and `find_runs`: the one way run folders are found and read
- files.py    atomic files, staged folders, safe path names
- lock.py     one writer per run folder
- metadata.py versions, commit, device, date
"""

from genoarmory.config import config_hash
from genoarmory.results.files import safe_part, staged_folder, write_bytes_atomic, write_json_atomic, write_text_atomic
from genoarmory.results.jsonl import RECORDS, RecordWriter, read_records, write_records
from genoarmory.results.lock import run_lock
from genoarmory.results.metadata import device_name, git_commit, run_metadata, versions
from genoarmory.results.records import AttackRecord, RecordError, Status, make_record
from genoarmory.results.run import CONFIG, SUMMARY, Run, find_runs, read_json_object, run_folders, runs

__all__ = [
    "AttackRecord", "CONFIG", "RECORDS", "RecordError", "RecordWriter", "Run", "SUMMARY", "Status", "config_hash",
    "device_name", "find_runs", "git_commit", "make_record", "read_json_object", "read_records", "run_folders",
    "run_lock", "run_metadata", "runs", "safe_part", "staged_folder", "versions", "write_bytes_atomic",
    "write_json_atomic", "write_records", "write_text_atomic",
]
