from __future__ import annotations

import json

import jwt
import pytest

from app.connect.qsh import canonical_request, query_string_hash
from tests.support import SHARED

pytestmark = [
    pytest.mark.unit,
    pytest.mark.connect,
    # The vectors' shared secret is Atlassian's short test secret.
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]

VECTORS = json.loads((SHARED / "vectors" / "connect-jwt-signed-urls.json").read_text())


def _base_url(name: str) -> str:
    # The one vector signed for an app whose baseUrl carries a path.
    return "https://example.com/base" if "baseUrl contains path" in name else "https://example.com"


@pytest.mark.parametrize("vector", VECTORS["tests"], ids=[v["name"] for v in VECTORS["tests"]])
def test_canonical_request_and_qsh_match_atlassian_vectors(vector: dict[str, str]) -> None:
    url = vector["signedUrl"]
    token = url.split("jwt=", 1)[1].split("&", 1)[0]
    claims = jwt.decode(token, VECTORS["secret"], algorithms=["HS256"], options={"verify_exp": False})

    assert canonical_request("GET", url, _base_url(vector["name"])) == vector["canonicalUrl"]
    assert query_string_hash("GET", url, _base_url(vector["name"])) == claims["qsh"]


def test_all_79_vectors_are_exercised() -> None:
    assert len(VECTORS["tests"]) == 79


@pytest.mark.parametrize(
    ("url", "base_url", "expected"),
    [
        (
            "https://jira.example/jira/rest/api/3/issue?b=2&a=1",
            "https://jira.example/jira",
            "POST&/rest/api/3/issue&a=1&b=2",
        ),
        ("https://app.example/app/jira/project/", "https://app.example/app/", "POST&/jira/project&"),
        ("https://app.example/app", "https://app.example/app", "POST&/&"),
        ("/installed?jwt=abc", "", "POST&/installed&"),
        ("https://other.example/base-other/x", "https://other.example/base", "POST&/base-other/x&"),
    ],
)
def test_paths_are_relative_to_a_base_url_with_a_path(url: str, base_url: str, expected: str) -> None:
    assert canonical_request("post", url, base_url) == expected
