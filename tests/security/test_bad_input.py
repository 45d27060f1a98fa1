"""Bad input against a real `townhall serve` process on both databases: oversized and lying
bodies, deep JSON, invalid UTF-8, NUL bytes and lone surrogates in every field, huge numbers,
wrong content types, odd methods, huge URLs and headers. Every answer is a clear 4xx with the
error envelope, never a 5xx, and the server stays healthy with nothing in its log.

Slow clients (slowloris) are in test_slow_clients.py. tests/api/test_bad_input.py covers the
field-by-field messages over ASGI; this file throws what a hostile client would."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from security.fuzz import OPEN_POLICY
from security.servers import Server, database, postgres_reachable, prepare
from tests.conftest import ORIGIN

FIELDS = ("text", "site", "thread", "thread_title", "thread_url", "parent_id")
AUTHOR = ("name", "email", "website")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    if request.param == "postgres" and (reason := postgres_reachable()):
        pytest.skip(reason)
    workdir: Path = tmp_path_factory.mktemp(f"bad-{request.param}")
    with database(request.param, workdir) as target:
        prepare(target, {"news": OPEN_POLICY})
        with Server(target, settings={"rate_limit_reads": "0", "rate_limit_writes": "0"}) as s:
            yield s
            log = s.log_text()
    assert "Traceback" not in log and "unhandled error" not in log, log[-5000:]


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200


def body(**more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": "news",
        "thread": "/bad",
        "text": "fine words",
        "author": {"name": "Ann", "email": "ann@example.org", "website": "https://ann.example"},
        "thread_url": ORIGIN + "/bad",
    }
    data.update(more)
    return data


def assert_clear(r: httpx.Response, *allowed: int) -> None:
    """A 4xx (or one of ``allowed``) with the error envelope when it is an error."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if allowed and r.status_code in allowed:
        return
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if r.headers.get("content-type", "").startswith("application/json"):
        error = r.json()["error"]
        assert error["code"] and error["message"]


def raw(server: Server, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are (no client-side checks) and read the answer."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 0:
                head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(rest) >= length[0]:
                    break
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


@pytest.mark.parametrize("where", [*FIELDS, *(f"author.{a}" for a in AUTHOR)])
@pytest.mark.parametrize(
    "value",
    ["a\x00b", "\x00", "\ud800", "a\udfffb", "\x1b[31m", "\u202etxt", "\ufeff\u200b"],
    ids=["nul", "only-nul", "lone-high-surrogate", "lone-low-surrogate", "ansi", "rtl", "bom"],
)
def test_hostile_strings_in_every_field(client: httpx.Client, where: str, value: str) -> None:
    data = body()
    if where.startswith("author."):
        data["author"][where.split(".", 1)[1]] = value
    else:
        data[where] = value
    # ensure_ascii keeps lone surrogates as \ud800 escapes, as a hostile client would send them
    encoded = json.dumps(data, ensure_ascii=True).encode()
    r = client.post(
        "/api/v1/comments", content=encoded, headers={"Content-Type": "application/json"}
    )
    assert_clear(r, 201, 202)
    if r.status_code in (201, 202):
        listed = client.get("/api/v1/comments", params={"site": "news", "thread": data["thread"]})
        assert listed.status_code in (200, 422), listed.text


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "\ud800", "%00", "é" * 600, "../../etc/passwd", "' OR 1=1 --", "x" * 3000],
    ids=["nul", "surrogate", "percent-nul", "long-unicode", "traversal", "sql", "long"],
)
@pytest.mark.parametrize("name", ["site", "thread", "sort", "limit", "cursor"])
def test_hostile_query_parameters(client: httpx.Client, name: str, value: str) -> None:
    params = {"site": "news", "thread": "/bad", name: value}
    query = "&".join(
        f"{k}=" + "".join(f"%{b:02X}" for b in v.encode("utf-8", "surrogatepass"))
        for k, v in params.items()
    )
    assert_clear(client.get("/api/v1/comments?" + query), 200)
    assert_clear(client.get("/api/v1/counts?" + query), 200)
    with client.stream("GET", "/api/v1/events?" + query) as events:  # SSE: look, then hang up
        assert events.status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/comments/%00",
        "/api/v1/comments/%FF%FE",
        "/api/v1/comments/99999999999999999999999999",
        "/api/v1/comments/2147483648",  # one past PostgreSQL's integer (the id columns)
        "/api/v1/comments/6022309773",  # what the fuzzer sent the moderation API
        "/api/v1/comments/4611686018427387903",  # 2**62 - 1
        "/api/v1/comments/-1",
        "/api/v1/comments/0",
        "/api/v1/comments/1e400",
        "/api/v1/comments/%ED%A0%80",  # an encoded surrogate
        "/api/v1/comments/1%2F..%2F..",
    ],
)
def test_hostile_comment_ids(client: httpx.Client, path: str) -> None:
    token = {"X-Townhall-Edit-Token": "t" * 20}
    assert_clear(client.patch(path, json={"text": "x"}, headers=token))
    assert_clear(client.delete(path, headers=token))
    assert_clear(client.post(path + "/vote", json={"value": 1}))
    assert_clear(client.post(path + "/flag", json={"reason": "spam"}))


@pytest.mark.parametrize(
    "raw_json",
    [
        b'{"site":"news","thread":"/bad","text":"x","parent_id":1e400}',
        b'{"site":"news","thread":"/bad","text":"x","parent_id":' + b"9" * 5000 + b"}",
        b'{"site":"news","thread":"/bad","text":"x","parent_id":-1}',
        b'{"site":"news","thread":"/bad","text":"x","parent_id":18446744073709551616}',
        b'{"site":"news","thread":"/bad","text":"x","parent_id":"99999999999999999999"}',
        b'{"site":"news","thread":"/bad","text":"x","confirm":1e400}',
        b'{"site":"news","thread":"/bad","text":"x","author":' + b"[" * 20000 + b"]" * 20000 + b"}",
        b'{"site":"news","thread":"/bad","text":' + b'{"a":' * 6000 + b"1" + b"}" * 6000 + b"}",
        b'{"site":"news","site":"other","thread":"/bad","text":"duplicate keys"}',
        b'{"site":"news","thread":"/bad","text":"x"} trailing',
        b'{"site":"news","thread":"/bad","text":"\xff\xfe invalid utf-8"}',
        b'\xef\xbb\xbf{"site":"news","thread":"/bad","text":"with a BOM"}',
        b'{"site":"news","thread":"/bad","text":"x"}\x00',
        b"null",
        b"[]",
        b'"just a string"',
        b"1e999999",
        b"{" * 30000,
    ],
)
def test_malformed_and_extreme_json(client: httpx.Client, raw_json: bytes) -> None:
    r = client.post(
        "/api/v1/comments", content=raw_json, headers={"Content-Type": "application/json"}
    )
    assert_clear(r, 201)


@pytest.mark.parametrize(
    "value", ["1e400", "99999999999999999999", "-1e400", "true", "1.0", '"1"', "2", "null"]
)
def test_huge_and_wrong_numbers_in_votes(client: httpx.Client, value: str) -> None:
    posted = client.post("/api/v1/comments", json=body(text=f"vote {value}"))
    assert posted.status_code == 201, posted.text
    cid = posted.json()["comment"]["id"]
    r = client.post(
        f"/api/v1/comments/{cid}/vote",
        content=b'{"value": ' + value.encode() + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_clear(r)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/html",
        "application/xml",
        "application/json-patch+json",
        "image/png",
        "application/json; charset=latin-1\x7f",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/comments"),
        ("PATCH", "/api/v1/comments/1"),
        ("POST", "/api/v1/comments/1/vote"),
        ("POST", "/api/v1/comments/1/flag"),
        ("POST", "/api/v1/counts"),
        ("POST", "/api/v1/preview"),
    ],
)
def test_wrong_content_types_are_refused(
    client: httpx.Client, content_type: str, method: str, path: str
) -> None:
    r = client.request(
        method,
        path,
        content=json.dumps(body(value=1, reason="spam", threads=["/bad"])).encode(),
        headers={"Content-Type": content_type, "X-Townhall-Edit-Token": "t" * 20},
    )
    assert_clear(r)
    if "json" not in content_type:
        assert r.status_code == 415, r.text


def test_bodies_over_the_limit(server: Server, client: httpx.Client) -> None:
    big = json.dumps(body(text="x" * 200_000)).encode()
    assert client.post("/api/v1/comments", content=big).status_code == 413
    # no Content-Length: a chunked body is counted as it arrives
    r = client.post(
        "/api/v1/comments",
        content=iter([big[i : i + 4096] for i in range(0, len(big), 4096)]),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413, r.text
    # a Content-Length far beyond the limit is refused before the body is read
    answer = raw(
        server,
        b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999999\r\n\r\n{",
    )
    assert status_of(answer) == 413, answer[:300]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Content-Length: 40\r\n\r\n{}",
        b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 2\r\n\r\n0\r\n\r\n",
        b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
        b"GET /api/v1/comments?site=news&thread=%2Fbad HTTP/1.1\r\nHost: x\r\n"
        b"X-Townhall-Reader: \xff\xfe\xfd\r\n\r\n",
        b"GET /api/v1/comments?site=news&thread=%2Fbad HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
        + b"\r\n",
        b"GET /api/v1/comments?site=news&thread="
        + b"a" * 200_000
        + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/v1/comments?site=news&thread=%2Fbad HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"b" * 200_000
        + b"\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"TRACE /api/v1/comments HTTP/1.1\r\nHost: x\r\n\r\n",
        b"PUT /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"GET /api/v1/comments HTTP/9.9\r\nHost: x\r\n\r\n",
    ],
    ids=[
        "length-not-a-number",
        "negative-length",
        "two-lengths",
        "chunked-and-length",
        "bad-chunk-size",
        "invalid-utf8-header",
        "2000-headers",
        "200k-url",
        "200k-header",
        "invalid-utf8-path",
        "garbage",
        "trace",
        "put",
        "http-9.9",
    ],
)
def test_broken_http(server: Server, request_bytes: bytes) -> None:
    answer = raw(server, request_bytes)
    status = status_of(answer)
    # the server answers with a 4xx or closes the connection; either way no 5xx
    assert status == 0 or 200 <= status < 500, answer[:400]
    if b"X-Townhall-Reader" in request_bytes or b"2000" in request_bytes:
        assert status in (200, 400, 431), answer[:300]
