"""HTTP exchanges written down as they went over the wire: request line and headers, status
line, response headers and body (bearer tokens shortened so the report holds no secret)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

SHOWN_TOKEN_CHARS = 6


@dataclass(frozen=True)
class Exchange:
    status: int
    body: str
    transcript: str

    def json(self) -> object:
        return json.loads(self.body)


def _redacted(name: str, value: str) -> str:
    if name.lower() != "authorization":
        return value
    scheme, _, secret = value.partition(" ")
    return f"{scheme} {secret[:SHOWN_TOKEN_CHARS]}… (redacted, {len(secret)} characters)"


def exchange(
    client: httpx.Client, method: str, url: str, headers: dict[str, str] | None = None
) -> Exchange:
    request = client.build_request(method, url, headers=headers)
    response = client.send(request)
    target = request.url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} {response.http_version}"]
    lines += [f"{name}: {_redacted(name, value)}" for name, value in request.headers.items()]
    if request.content:
        lines += ["", request.content.decode(errors="replace")]
    lines += ["", f"{response.http_version} {response.status_code} {response.reason_phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines += ["", response.text]
    return Exchange(response.status_code, response.text, "\n".join(lines))
