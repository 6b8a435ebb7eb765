"""Pools (and trained checkpoints) on the Hugging Face Hub: publish, pull, publish a model.

A dataset repo holds one or more **configs**, each a pool in the on-disk layout:

```
README.md                                one card for the whole repo (YAML `configs:` lists all)
manifest.json, data/train-*.parquet      the `default` config (published without --config)
assets/difficulty.png                    its difficulty histogram, linked from the card
CONFIG/manifest.json, CONFIG/data/...    a named config (published with --config CONFIG)
CONFIG/assets/difficulty.png
```

Publishing validates the pool first (shard hashes against the manifest, every row re-proved
from its certificate), renders the card from the rows (merged with the card already in the
repo, so other configs stay listed), compares every file with what the repo holds (git blob
ids for regular files, sha256 for LFS files) and makes exactly **one** `create_commit` with
the changed files and the deletion of stale shards of the same config — or no commit at all
when nothing changed. A commit is atomic on the Hub, so a failure at any point (bad token,
no permission, the connection lost mid-upload) publishes nothing: LFS objects uploaded before
the failure are invisible until a commit references them.

The token is whatever `huggingface_hub` finds (`HF_TOKEN`, then the login cache); it is
never printed, and no message here contains it. The endpoint is `HF_ENDPOINT` (default
https://huggingface.co).

The run-directory contract of `publish_model` is described in `find_checkpoint` and
`plan_model_upload`.
"""

from __future__ import annotations

from synth.hub.errors import (
    HubError,
    HubInputError,
    PoolVerificationError,
    check_config,
    check_repo_id,
)
from synth.hub.model import find_checkpoint, plan_model_upload, publish_model
from synth.hub.plan import (
    FileChange,
    FileToUpload,
    PublishResult,
    PullResult,
    plan_upload,
    validate_pool,
)
from synth.hub.publish import publish_pool
from synth.hub.pull import pull_pool

__all__ = [
    "FileChange",
    "FileToUpload",
    "HubError",
    "HubInputError",
    "PoolVerificationError",
    "PublishResult",
    "PullResult",
    "check_config",
    "check_repo_id",
    "find_checkpoint",
    "plan_model_upload",
    "plan_upload",
    "publish_model",
    "publish_pool",
    "pull_pool",
    "validate_pool",
]
