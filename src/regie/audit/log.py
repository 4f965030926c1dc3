"""The hub's Merkle tree over the audit events (RFC 9162), stored as C2SP tlog-tiles do.

:func:`regie.audit.services.record` writes an event's side row and its *pending* leaf in the
caller's transaction. The sequencer, :func:`integrate`, gives pending leaves their dense indices
``0..n-1`` in batches, one transaction each, under a lock (``SELECT … FOR UPDATE`` on the tree
head on PostgreSQL; on SQLite every transaction begins with ``BEGIN IMMEDIATE``, settings'
``transaction_mode``, so writers are serialised anyway). A batch writes the leaves, the tiles it
changes and the new head, and removes its pending rows: a crash rolls the whole batch back, so an
event is never missing from the tree nor in it twice (the leaf index is the primary key, the event
id unique).

Tiles: level ``L`` tile ``N`` holds the level-``8L`` hashes ``N*256 .. N*256+255`` (level 0: the
leaf hashes). The hash of any perfect subtree — what :mod:`.rfc9162` asks for to make a root or a
proof — lies inside one tile: a level ``8L + r`` hash is the root of ``2**r`` consecutive entries
of a level-``L`` tile. A proof reads its tiles in one query.

:func:`integrate` runs at start-up of ``regie serve`` and ``regie worker`` (recovery), before a
checkpoint is signed and before a proof is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.db import connection, transaction

from regie.lib.logging import get_logger

from . import rfc9162
from .models import AuditEvent, Leaf, PendingLeaf, Tile, TreeHead
from .rfc9162 import HASH_SIZE, ProofError
from .signed_note import b64decode_canonical

logger = get_logger(__name__)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
TILE_BYTES = TILE_WIDTH * HASH_SIZE
BATCH = 5000
_CHUNK = 1000  # rows per IN (...) list
EXPORT_FORMAT = "regie-log-export/v1"
HEAD = 1  # the tree head's primary key

TileKey = tuple[int, int]


def _hashes(data: bytes) -> list[bytes]:
    return [data[offset : offset + HASH_SIZE] for offset in range(0, len(data), HASH_SIZE)]


def _inner_nodes(entries: bytes) -> bytes:
    """The hashes inside a tile, levels 1 .. TILE_HEIGHT-1 of it, each level at a fixed offset
    (``TILE_WIDTH >> r`` slots for level ``r``), zeros where a partial tile has no hash yet."""
    level_hashes = _hashes(entries)
    out = bytearray()
    width = TILE_WIDTH
    for _ in range(1, TILE_HEIGHT):
        level_hashes = [
            rfc9162.node_hash(level_hashes[i], level_hashes[i + 1])
            for i in range(0, len(level_hashes) - 1, 2)
        ]
        width >>= 1
        out += b"".join(level_hashes) + bytes(HASH_SIZE * (width - len(level_hashes)))
    return bytes(out)


StoredTile = tuple[bytes, bytes]  # (the tlog tile's hashes, the inner nodes)


class _Tiles:
    """Perfect-subtree hashes read from tiles (loaded lazily, or all at once with :meth:`load`)."""

    def __init__(self, known: dict[TileKey, StoredTile] | None = None) -> None:
        self.tiles: dict[TileKey, StoredTile] = dict(known or {})

    @staticmethod
    def key(level: int, index: int) -> tuple[TileKey, int, int]:
        """The tile holding the perfect subtree (level, index), its first entry, and its height
        inside the tile."""
        tile_level, height = divmod(level, TILE_HEIGHT)
        first = index << height
        return (tile_level, first // TILE_WIDTH), first % TILE_WIDTH, height

    def load(self, keys: set[TileKey]) -> None:
        missing = sorted(keys - self.tiles.keys())
        if not missing:
            return
        condition = " OR ".join(["(level = %s AND tile_index = %s)"] * len(missing))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT level, tile_index, hashes, nodes FROM {Tile._meta.db_table} "  # noqa: S608
                f"WHERE {condition}",
                [value for key in missing for value in key],
            )
            for level, index, hashes, nodes in cursor.fetchall():
                self.tiles[(level, index)] = (bytes(hashes), bytes(nodes))

    def perfect(self, level: int, index: int) -> bytes:
        key, first, height = self.key(level, index)
        if key not in self.tiles:
            self.load({key})
        entries, nodes = self.tiles.get(key, (b"", b""))
        if len(entries) < (first + (1 << height)) * HASH_SIZE:
            raise ProofError(f"the tree has no stored hash for level {level}, index {index}")
        if height == 0:
            return entries[first * HASH_SIZE : (first + 1) * HASH_SIZE]
        slot = sum(TILE_WIDTH >> below for below in range(1, height)) + (first >> height)
        return nodes[slot * HASH_SIZE : (slot + 1) * HASH_SIZE]

    def prefetch(self, make: Callable[[rfc9162.PerfectHash], Any]) -> None:
        """Load, in one query, every tile ``make`` will ask for: a dry run records them."""
        wanted: set[TileKey] = set()

        def record(level: int, index: int) -> bytes:
            wanted.add(self.key(level, index)[0])
            return bytes(HASH_SIZE)

        make(record)
        self.load(wanted)


def _head() -> tuple[int, bytes]:
    row = TreeHead.objects.filter(pk=HEAD).values_list("size", "root").first()
    return (0, rfc9162.EMPTY_ROOT) if row is None else (row[0], bytes(row[1]))


def size() -> int:
    """The number of leaves in the tree."""
    return _head()[0]


def _checked_size(tree_size: int) -> None:
    size = _head()[0]
    if not 0 <= tree_size <= size:
        raise ProofError(f"the log has {size} leaves, not {tree_size}")


def root(size: int | None = None) -> bytes:
    """The root hash of the tree (of its first ``size`` leaves, when given)."""
    current, current_root = _head()
    if size is None or size == current:
        return current_root
    _checked_size(size)
    return root_from_tiles(size)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 ``PATH(index, D[size])``."""
    tree_size = size
    _checked_size(tree_size)
    tiles = _Tiles()
    tiles.prefetch(lambda perfect: rfc9162.inclusion_proof(index, tree_size, perfect))
    return rfc9162.inclusion_proof(index, tree_size, tiles.perfect)


def consistency_proof(first: int, second: int) -> list[bytes]:
    """RFC 9162 ``PROOF(first, D[second])``."""
    _checked_size(second)
    tiles = _Tiles()
    tiles.prefetch(lambda perfect: rfc9162.consistency_proof(first, second, perfect))
    return rfc9162.consistency_proof(first, second, tiles.perfect)


def leaf_of(event: AuditEvent) -> tuple[int, bytes] | None:
    """The index and leaf bytes of ``event``; None while it waits to be integrated."""
    row = Leaf.objects.filter(event_id=event.pk).values_list("index", "leaf").first()
    return None if row is None else (row[0], bytes(row[1]))


def leaf(index: int) -> bytes:
    """The leaf bytes at ``index``."""
    row = Leaf.objects.filter(index=index).values_list("leaf", flat=True).first()
    if row is None:
        raise ProofError(f"the log has no leaf {index}")
    return bytes(row)


def event_of(index: int) -> AuditEvent | None:
    """The side row of the leaf at ``index``; None when it was erased (or there is no leaf)."""
    event_id = Leaf.objects.filter(index=index).values_list("event_id", flat=True).first()
    if event_id is None:
        return None
    return AuditEvent.objects.filter(pk=event_id).first()


# The sequencer ----------------------------------------------------------------------------------


def _lock_head() -> TreeHead:
    TreeHead.objects.bulk_create(
        [TreeHead(pk=HEAD, size=0, root=rfc9162.EMPTY_ROOT)], ignore_conflicts=True
    )
    return TreeHead.objects.select_for_update().get(pk=HEAD)


def _extend_tiles(old_size: int, leaf_hashes: list[bytes]) -> dict[TileKey, StoredTile]:
    """Write the tiles that ``leaf_hashes`` (appended to a tree of ``old_size``) change; return
    them (the tree's right edge at every level)."""
    written: dict[TileKey, StoredTile] = {}
    level, count, new = 0, old_size, leaf_hashes
    while new:
        first_tile = count // TILE_WIDTH
        kept = count % TILE_WIDTH
        existing = b""
        if kept:
            stored = Tile.objects.filter(level=level, index=first_tile).values_list(
                "hashes", flat=True
            )
            existing = bytes(stored.get())[: kept * HASH_SIZE]
        entries = existing + b"".join(new)
        rows, upper = [], []
        for offset in range(0, len(entries), TILE_BYTES):
            data = entries[offset : offset + TILE_BYTES]
            index = first_tile + offset // TILE_BYTES
            nodes = _inner_nodes(data)
            rows.append(Tile(level=level, index=index, hashes=data, nodes=nodes))
            written[(level, index)] = (data, nodes)
            if len(data) == TILE_BYTES:
                upper.append(rfc9162.root(_hashes(data)))
        Tile.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=("level", "index"),
            update_fields=("hashes", "nodes"),
        )
        level, count, new = level + 1, count // TILE_WIDTH, upper
    return written


def _integrate_batch(batch: int) -> tuple[int, int]:
    """One batch in one transaction: (leaves integrated, tree size after)."""
    with transaction.atomic():
        head = _lock_head()
        pending = list(
            PendingLeaf.objects.order_by("id").values_list("id", "event_id", "leaf")[:batch]
        )
        if not pending:
            return 0, head.size
        old_size = head.size
        leaves = [bytes(item[2]) for item in pending]
        Leaf.objects.bulk_create(
            [
                Leaf(index=old_size + offset, event_id=item[1], leaf=leaf_bytes)
                for offset, (item, leaf_bytes) in enumerate(zip(pending, leaves, strict=True))
            ],
            batch_size=_CHUNK,
        )
        written = _extend_tiles(old_size, [rfc9162.leaf_hash(item) for item in leaves])
        new_size = old_size + len(pending)
        tiles = _Tiles(written)
        head.size = new_size
        head.root = rfc9162.tree_root(new_size, tiles.perfect)
        head.save(update_fields=("size", "root"))
        ids = [item[0] for item in pending]
        for offset in range(0, len(ids), _CHUNK):
            PendingLeaf.objects.filter(id__in=ids[offset : offset + _CHUNK]).delete()
        return len(pending), new_size


def integrate(batch: int = BATCH, progress: Callable[[int], None] | None = None) -> int:
    """Put every pending leaf into the tree; return the tree size after. ``progress(size)`` is
    called after each committed batch."""
    total = 0
    while True:
        added, tree_size = _integrate_batch(batch)
        total += added
        if added and progress is not None:
            progress(tree_size)
        if added < batch:
            break
    if total:
        logger.info("audit.log.integrated", leaves=total, size=tree_size)
    return tree_size


# Export and self-check --------------------------------------------------------------------------


def _leaf_rows(limit: int | None = None) -> Iterator[tuple[int, int, bytes]]:
    """(index, event id, leaf) in index order, in chunks."""
    last = -1
    while True:
        query = Leaf.objects.filter(index__gt=last).order_by("index")
        if limit is not None:
            query = query.filter(index__lt=limit)
        rows = list(query.values_list("index", "event_id", "leaf")[:_CHUNK])
        if not rows:
            return
        for index, event_id, leaf_bytes in rows:
            yield index, event_id, bytes(leaf_bytes)
        last = rows[-1][0]


def _events(event_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        row["id"]: dict(row)
        for row in AuditEvent.objects.filter(id__in=event_ids).values(
            "id", "actor", "subject", "details", "salt"
        )
    }


def _checkpoint_size_and_root(checkpoint: str) -> tuple[int, bytes]:
    """The tree size and root hash of a checkpoint note's body (C2SP tlog-checkpoint: origin,
    size, base64 root)."""
    lines = checkpoint.split("\n")
    try:
        tree_size = int(lines[1])
        root_hash = b64decode_canonical(lines[2])
    except (IndexError, ValueError):
        raise ValueError("the checkpoint is not a tlog-checkpoint note") from None
    if not lines[1].isdigit() or len(root_hash) != HASH_SIZE:
        raise ValueError("the checkpoint is not a tlog-checkpoint note")
    return tree_size, root_hash


def export(out: IO[str], checkpoint: str) -> None:
    """The log as JSON Lines for ``regie-verify audit``: a header with the checkpoint, then one
    line per leaf of the checkpoint's tree, with its side row (``null`` once erased)."""
    tree_size, root_hash = _checkpoint_size_and_root(checkpoint)
    if root(tree_size) != root_hash:
        raise ValueError("the checkpoint's root is not this log's root at its size")
    out.write(json.dumps({"format": EXPORT_FORMAT, "checkpoint": checkpoint}) + "\n")
    chunk: list[tuple[int, int, bytes]] = []

    def flush() -> None:
        events = _events([event_id for _, event_id, _ in chunk])
        for index, event_id, leaf_bytes in chunk:
            row = events.get(event_id)
            event = (
                None
                if row is None
                else {key: row[key] for key in ("actor", "subject", "details", "salt")}
            )
            line = {"index": index, "leaf": leaf_bytes.decode("utf-8"), "event": event}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        chunk.clear()

    for item in _leaf_rows(limit=tree_size):
        chunk.append(item)
        if len(chunk) == _CHUNK:
            flush()
    flush()


def check() -> list[str]:
    """The hub's self-check of the stored tree: what is wrong, one line each (empty when all is
    well). Recomputes the root from the leaves and from the tiles and compares both with the head;
    checks that the leaves are numbered 0..n-1, that every tile holds the hashes its leaves give,
    and that every leaf whose side row is gone is covered by a later ``audit.details.erased``
    leaf with the same subject hash."""
    from .events import AUDIT_DETAILS_ERASED

    problems: list[str] = []
    tree_size, head_root = _head()
    expected = 0
    level0: list[bytes] = []
    missing_rows: list[tuple[int, str]] = []
    last_erasure: dict[str, int] = {}
    stack_root = _StreamingRoot()
    chunk: list[tuple[int, int, bytes]] = []

    def account(items: list[tuple[int, int, bytes]]) -> None:
        present = set(
            AuditEvent.objects.filter(id__in=[item[1] for item in items]).values_list(
                "id", flat=True
            )
        )
        for index, event_id, leaf_bytes in items:
            try:
                fields = json.loads(leaf_bytes)
                subject, event_type = fields["subject"], fields["type"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"leaf {index}: not a leaf of this log")
                continue
            if event_type == AUDIT_DETAILS_ERASED.name:
                last_erasure[subject] = index
            if event_id not in present:
                missing_rows.append((index, subject))

    for index, event_id, leaf_bytes in _leaf_rows():
        if index != expected:
            problems.append(f"leaf {expected} is missing (the next stored leaf is {index})")
            expected = index
        hashed = rfc9162.leaf_hash(leaf_bytes)
        if index < tree_size:
            stack_root.add(hashed)
        level0.append(hashed)
        if len(level0) == TILE_WIDTH or index == tree_size - 1:
            _tile_differs(index // TILE_WIDTH, level0, problems)
            level0 = []
        chunk.append((index, event_id, leaf_bytes))
        if len(chunk) == _CHUNK:
            account(chunk)
            chunk = []
        expected += 1
    account(chunk)
    if expected != tree_size:
        problems.append(f"the tree head says {tree_size} leaves, the leaf table holds {expected}")
    if stack_root.root() != head_root:
        problems.append("the root computed from the leaves differs from the tree head's root")
    try:
        tiles_root = root_from_tiles(tree_size)
    except ProofError as error:
        problems.append(f"the tiles cannot give the root: {error}")
    else:
        if tiles_root != head_root:
            problems.append("the root computed from the tiles differs from the tree head's root")
    for index, subject in missing_rows:
        if not subject:
            problems.append(f"leaf {index}: its event is gone, and it had no subject to erase")
        elif last_erasure.get(subject, -1) <= index:
            problems.append(f"leaf {index}: its event is gone without a later erasure event")
    return problems


def root_from_tiles(tree_size: int) -> bytes:
    """The root of the first ``tree_size`` leaves from the stored tiles alone (not the head)."""
    tiles = _Tiles()
    tiles.prefetch(lambda perfect: rfc9162.tree_root(tree_size, perfect))
    return rfc9162.tree_root(tree_size, tiles.perfect)


def _tile_differs(tile_index: int, hashes: list[bytes], problems: list[str]) -> None:
    stored = Tile.objects.filter(level=0, index=tile_index).values_list("hashes", flat=True)
    data = b"".join(hashes)
    found = stored.first()
    if found is None or bytes(found)[: len(data)] != data:
        problems.append(f"tile 0/{tile_index} does not hold the hashes of its leaves")


class _StreamingRoot:
    """MTH over leaf hashes given one at a time (rfc9162.root's stack, kept open)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []

    def add(self, value: bytes) -> None:
        level = 0
        while self.stack and self.stack[-1][0] == level:
            value = rfc9162.node_hash(self.stack.pop()[1], value)
            level += 1
        self.stack.append((level, value))

    def root(self) -> bytes:
        if not self.stack:
            return rfc9162.EMPTY_ROOT
        stack = list(self.stack)
        current = stack.pop()[1]
        while stack:
            current = rfc9162.node_hash(stack.pop()[1], current)
        return current


__all__ = [
    "check",
    "consistency_proof",
    "event_of",
    "export",
    "inclusion_proof",
    "integrate",
    "leaf",
    "leaf_of",
    "root",
    "size",
]
