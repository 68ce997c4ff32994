"""The import's sealing of personal data (D3): in-process for small batches, split over forked
crypto workers for big ones; the two give the same stored text as the cipher's own methods."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import polars as pl
import pytest
from django.test import override_settings

from xiezuo.core.crypto import get_cipher
from xiezuo.registry import importing

IDS = ["11010519491231002X", "513431199001011234", "520281196104201214", "610725195201111214", "1"]
NAMES = ["张三丰", "欧阳·娜娜", "樊一", "那二", "李"]
SIGTERM_BIT = 1 << (signal.SIGTERM - 1)  # in /proc/<pid>/status signal masks
SIGINT_BIT = 1 << (signal.SIGINT - 1)


@pytest.fixture
def keys() -> object:
    with override_settings(XIEZUO_HMAC_KEY="55" * 32, XIEZUO_AES_KEY="66" * 32, XIEZUO_AES_KEY_ID="k7"):
        get_cipher.cache_clear()
        yield
    get_cipher.cache_clear()


@pytest.mark.parametrize("pool_from", [1_000_000, 1])
def test_sealed_columns_are_the_ciphers_hmacs_and_tokens(
    keys: object, pool_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "CRYPTO_POOL_MIN_ROWS", pool_from)  # 1: the worker processes
    cipher = get_cipher()
    sealer = importing.Sealer()
    try:
        result = sealer.submit(pl.Series("_id", IDS), pl.Series("_name", NAMES))
        id_hmac, id_cipher, name_hmac, name_cipher = result()
        assert (sealer._pool is not None) == (pool_from == 1)
    finally:
        sealer.close()
    assert [s.dtype for s in (id_hmac, id_cipher, name_hmac, name_cipher)] == [pl.String] * 4
    assert id_hmac.to_list() == cipher.hmac_many(IDS)
    assert name_hmac.to_list() == cipher.hmac_many(NAMES)
    assert [cipher.decrypt(t) for t in id_cipher] == IDS
    assert [cipher.decrypt(t) for t in name_cipher] == NAMES
    assert all(t.startswith("k7:") for t in [*id_cipher, *name_cipher])
    assert len(set(id_cipher)) == len(IDS)


def _signal_masks(pid: int) -> dict[str, int]:
    fields = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
    )
    return {k: int(fields[k], 16) for k in ("SigCgt", "SigIgn")}


def _plain(masks: dict[str, int]) -> bool:
    return not masks["SigCgt"] & SIGTERM_BIT and bool(masks["SigIgn"] & SIGINT_BIT)


def test_the_crypto_workers_do_not_keep_the_parents_signal_handlers(
    keys: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool ends its workers with SIGTERM. Forked, they had their parent's handlers — `xiezuo
    worker`'s only sets a flag, this test session's raises KeyboardInterrupt — and a test session
    hung in Sealer.close with a worker still waiting. They take the default action now, and
    ignore Ctrl-C (the importing process ends the pool)."""
    monkeypatch.setattr(importing, "CRYPTO_POOL_MIN_ROWS", 1)
    caught = []
    previous = signal.signal(signal.SIGTERM, lambda *_: caught.append(True))  # as `xiezuo worker` does
    sealer = importing.Sealer()
    try:
        sealer.submit(pl.Series("_id", IDS), pl.Series("_name", NAMES))()
        assert _signal_masks(os.getpid())["SigCgt"] & SIGTERM_BIT  # the parent catches it
        workers = [p.pid for p in sealer._pool._pool]
        assert len(workers) == importing.CRYPTO_WORKERS
        for pid in workers:
            # A worker sets its signals as it starts, maybe after the results came back (the
            # other worker may have sealed both halves): wait for it, a few seconds at most.
            deadline = time.monotonic() + 10
            while not _plain(masks := _signal_masks(pid)) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not masks["SigCgt"] & SIGTERM_BIT
            assert masks["SigIgn"] & SIGINT_BIT
    finally:
        sealer.close()
        signal.signal(signal.SIGTERM, previous)
    assert caught == []
