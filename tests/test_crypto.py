"""Personal data crypto and masking (DESIGN.md D3): pure, no database."""

from __future__ import annotations

import base64
import datetime as dt

import polars as pl
import pytest
from django.test import override_settings

from xiezuo.core.crypto import (
    AesGcmCipher,
    DecryptionError,
    PersonalDataCipher,
    age_on,
    get_cipher,
    hex_column,
    hmac_many,
    mask_id,
    mask_name,
    mask_phone,
    parse_hex_key,
    parse_key_ring,
    token_column,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
ID = "11010519491231002X"


def cipher(
    hmac_key: bytes = KEY_A, keys: dict[str, bytes] | None = None, current: str = "k1"
) -> AesGcmCipher:
    return AesGcmCipher(hmac_key=hmac_key, keys=keys or {"k1": KEY_A}, current_key_id=current)


def test_hmac_is_deterministic_and_keyed() -> None:
    a, b = cipher(hmac_key=KEY_A), cipher(hmac_key=KEY_B)
    assert a.hmac(ID) == cipher(hmac_key=KEY_A).hmac(ID)
    assert a.hmac(ID) != b.hmac(ID)
    assert a.hmac(ID) != a.hmac("11010519491231003X")
    assert len(a.hmac(ID)) == 64 and int(a.hmac(ID), 16) >= 0
    # the same value as the standard library computes
    import hashlib
    import hmac

    assert a.hmac(ID) == hmac.new(KEY_A, ID.encode(), hashlib.sha256).hexdigest()


def test_hmac_many_equals_hmac_one_by_one() -> None:
    a = cipher()
    values = [ID, "513431199001011239", "", "张三"]
    assert a.hmac_many(values) == [a.hmac(v) for v in values]
    assert a.hmac_many([]) == []


def test_encrypt_round_trip_and_token_format() -> None:
    a = cipher()
    token = a.encrypt(ID)
    key_id, _, body = token.partition(":")
    assert key_id == "k1"
    assert len(base64.b64decode(body)) == 12 + len(ID) + 16  # nonce, ciphertext, GCM tag
    assert a.decrypt(token) == ID
    assert a.decrypt(a.encrypt("")) == ""
    assert a.decrypt(a.encrypt("张三丰")) == "张三丰"


def test_two_encryptions_differ() -> None:
    a = cipher()
    assert a.encrypt(ID) != a.encrypt(ID)


def test_old_key_still_decrypts_after_rotation() -> None:
    before = cipher(keys={"k1": KEY_A}, current="k1")
    old_token = before.encrypt(ID)
    after = cipher(keys={"k1": KEY_A, "k2": KEY_B}, current="k2")
    new_token = after.encrypt(ID)
    assert new_token.startswith("k2:")
    assert after.decrypt(old_token) == ID
    assert after.decrypt(new_token) == ID
    with pytest.raises(DecryptionError):
        before.decrypt(new_token)  # k2 unknown before the rotation


def flip(token: str, index: int) -> str:
    key_id, _, body = token.partition(":")
    raw = bytearray(base64.b64decode(body))
    raw[index] ^= 1
    return key_id + ":" + base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: flip(t, 0),  # nonce
        lambda t: flip(t, 12),  # ciphertext
        lambda t: flip(t, -1),  # tag
        lambda t: "k2" + t[2:],  # relabelled with another key id (the id is authenticated)
        lambda t: "k9" + t[2:],  # unknown key id
        lambda t: t.replace(":", ""),  # no key id
        lambda t: t[:-8],  # truncated
        lambda t: "k1:not base64!",
        lambda t: "k1:" + base64.b64encode(b"short").decode(),
    ],
)
def test_tampered_tokens_raise(tamper: object) -> None:
    a = cipher(keys={"k1": KEY_A, "k2": KEY_A}, current="k1")
    token = a.encrypt(ID)
    assert callable(tamper)
    with pytest.raises(DecryptionError):
        a.decrypt(tamper(token))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hmac_key": b"short", "keys": {"k1": KEY_A}, "current_key_id": "k1"}, "HMAC key"),
        ({"hmac_key": KEY_A, "keys": {"k1": KEY_A}, "current_key_id": "k2"}, "no key"),
        ({"hmac_key": KEY_A, "keys": {"a:b": KEY_A}, "current_key_id": "a:b"}, "contain no"),
        ({"hmac_key": KEY_A, "keys": {"k1": b"x" * 16}, "current_key_id": "k1"}, "32 bytes"),
    ],
)
def test_bad_keys_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AesGcmCipher(**kwargs)  # type: ignore[arg-type]


def test_key_parsing() -> None:
    assert parse_hex_key("00" * 32) == bytes(32)
    assert parse_key_ring(f"k0:{'11' * 32}, old:{'22' * 32}") == {"k0": b"\x11" * 32, "old": b"\x22" * 32}
    for bad in ("zz" * 32, "00" * 31):
        with pytest.raises(ValueError):
            parse_hex_key(bad)
    with pytest.raises(ValueError):
        parse_key_ring("no-colon")


def test_get_cipher_from_settings() -> None:
    keys = {"XIEZUO_HMAC_KEY": "aa" * 32, "XIEZUO_AES_KEY": "bb" * 32, "XIEZUO_AES_KEY_ID": "k7"}
    old = {"XIEZUO_AES_OLD_KEYS": "k6:" + "cc" * 32}
    get_cipher.cache_clear()
    try:
        with override_settings(**keys):
            c = get_cipher()
            assert isinstance(c, PersonalDataCipher)
            assert get_cipher() is c  # cached
            assert c.encrypt(ID).startswith("k7:")
            assert c.hmac(ID) == cipher(hmac_key=b"\xaa" * 32).hmac(ID)
            assert hmac_many([ID]) == [c.hmac(ID)]
            old_token = cipher(keys={"k6": b"\xcc" * 32}, current="k6").encrypt(ID)
        get_cipher.cache_clear()
        with override_settings(**keys, **old):
            assert get_cipher().decrypt(old_token) == ID
    finally:
        get_cipher.cache_clear()


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("513431199001011234", "513431**********34"),
        ("51343119900101123X", "513431**********3X"),
        ("513431900101123", "513431*******23"),
        ("123456789", "123456*89"),
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_mask_id(value: str, masked: str) -> None:
    assert mask_id(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("8613812345678", "861******5678"),
        ("85123456", "****3456"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("张三丰", "张**"), ("李四", "李*"), ("王", "*"), ("欧阳娜娜", "欧***"), (" 张三 ", "张*"), ("", "")],
)
def test_mask_name(value: str, masked: str) -> None:
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (dt.date(1990, 6, 15), dt.date(2020, 6, 14), 29),
        (dt.date(1990, 6, 15), dt.date(2020, 6, 15), 30),
        (dt.date(2000, 2, 29), dt.date(2021, 2, 28), 20),
        (dt.date(2000, 2, 29), dt.date(2021, 3, 1), 21),
        (dt.date(2020, 1, 1), dt.date(2020, 1, 1), 0),
    ],
)
def test_age_on(birth: dt.date, on: dt.date, age: int) -> None:
    assert age_on(birth, on) == age


def test_encrypt_many_makes_tokens_like_encrypt() -> None:
    c = cipher(keys={"k1": KEY_A, "k2": KEY_B}, current="k2")
    texts = [ID, "张三丰", "", "513431199001011234"] * 3
    tokens = c.encrypt_many(texts)
    assert [c.decrypt(t) for t in tokens] == texts
    assert all(t.startswith("k2:") for t in tokens)
    # same layout as encrypt: base64 of nonce + ciphertext + tag
    assert {len(t) for t in tokens[:1]} == {len(c.encrypt(ID))}
    # a fresh nonce each: equal texts give different tokens
    assert len(set(tokens)) == len(tokens)
    assert len({base64.b64decode(t[3:])[:12] for t in tokens}) == len(tokens)
    assert c.encrypt_many([]) == []


def test_raw_columns_encode_to_the_same_text_as_hmac_many_and_encrypt_many() -> None:
    """The import's crypto workers hand over raw digests and token bodies; the importing process
    makes them text with hex_column and token_column: the same as hmac_many and encrypt_many."""
    c = cipher(keys={"k1": KEY_A, "k2": KEY_B}, current="k2")
    texts = [ID, "张三丰", "", "欧阳·娜娜", "513431199001011234"]
    hexes = hex_column(pl.Series("h", c.hmac_digests(texts), dtype=pl.Binary))
    assert hexes.dtype == pl.String and hexes.to_list() == c.hmac_many(texts)
    bodies = c.seal_many(texts)
    assert [len(b) for b in bodies] == [12 + len(t.encode()) + 16 for t in texts]
    tokens = token_column("k2", pl.Series("t", bodies, dtype=pl.Binary))
    assert tokens.name == "t" and tokens.dtype == pl.String
    assert tokens.to_list() == ["k2:" + base64.b64encode(b).decode() for b in bodies]
    assert [c.decrypt(t) for t in tokens] == texts
    assert c.seal_many([]) == [] and c.hmac_digests([]) == []
