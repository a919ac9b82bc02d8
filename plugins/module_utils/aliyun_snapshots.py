# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""ECS snapshots in the shape aliyun_snapshot and aliyun_snapshot_info return."""

from __future__ import annotations

from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import tags_dict


def normalize(snap):
    return {
        "id": snap.get("SnapshotId", ""),
        "name": snap.get("SnapshotName", ""),
        "status": snap.get("Status", ""),
        "progress": snap.get("Progress", ""),
        "disk_id": snap.get("SourceDiskId", ""),
        "size_gb": int(snap.get("SourceDiskSize") or 0),
        "created": snap.get("CreationTime", ""),
        "tags": tags_dict(snap),
    }


def describe(ecs, **filters):
    """DescribeSnapshots, every page, oldest first (ties by id)."""
    found = ecs.pages("DescribeSnapshots", "Snapshots", "Snapshot", **filters)
    return sorted((normalize(s) for s in found), key=lambda s: (s["created"], s["id"]))


def by_id(ecs, snapshot_id):
    found = describe(ecs, SnapshotIds=[snapshot_id])
    return found[0] if found else None
