"""GraphQL requests read by their operation.

A GraphQL API answers every request at one path (``POST /graphql``) and nearly always with 200: a
failed login (Saleor's ``tokenCreate``, Shopify's ``customerAccessTokenCreate`` with ``userErrors``),
a declined card (``checkoutComplete``) and a product search look alike in the access log. What tells
them apart is the operation's name, which clients send where a proxy can log it: in the query of a
GET (persisted queries: ``?operationName=SearchProducts&variables=...``), or in a header (Apollo's
iOS and Kotlin clients send ``X-APOLLO-OPERATION-NAME``; nginx logs it as
``$http_x_apollo_operation_name``, or any request header as ``$http_<name>``). A POST's body, where
every client also puts it, is not in an access log.

``operation_event_type`` reads the event type from the name's words (``tokenCreate``: token,
create), as ``traffic.importer.infer_event_type`` reads it from a path's. An operation read as a login
whose answer says nothing of its outcome (200, as GraphQL answers a failed one) is a
``login_attempt``, as a WAF's statusless logins are: its waves are the surges of logins
(``model.waves.LOGIN_SURGES``). The importer makes the operation part of the resource
(``/graphql/TokenCreate``), so that the features that read paths (their rarity, a visit's new and
repeated ones) read operations.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

# The paths GraphQL servers answer at: Apollo's, Saleor's, Hasura's (/v1/graphql), Shopify's
# storefront (/api/2024-10/graphql.json), Magento's, GitHub's; and /gql.
_GRAPHQL_PATH_RE = re.compile(r"/(?:graphql|gql)(?:\.json)?/?$", re.IGNORECASE)
# The columns that hold the operation's name: a header the client sends, or one named for it.
OPERATION_COLUMNS = frozenset(
    {"graphql_operation", "http_x_apollo_operation_name", "http_x_graphql_operation_name", "http_x_operation_name"}
)
OPERATION_PROPERTY = "graphql_operation"
MAX_OPERATION_LENGTH = 100
# A GraphQL name: letters, digits and underscores, not starting with a digit.
_NAME_RE = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

_LOGOUT_WORDS = {"logout", "signout", "logoff"}
_LOGIN_WORDS = {"login", "signin", "authenticate"}
_TOKEN_WORDS = {"token", "tokens", "session"}
_TOKEN_MADE = {"create", "generate", "obtain", "issue", "get"}
_TOKEN_ENDED = {"delete", "deactivate", "revoke", "remove", "invalidate"}
_TOKEN_KEPT = {"refresh", "verify", "validate"}
_RESET_WORDS = {"reset", "recover", "forgot", "forgotten"}
_PASSWORD_STEPS = {"set", "change", "request", "update"}
_SIGNUP_WORDS = {"register", "signup", "registration"}
_ACCOUNT_WORDS = {"account", "customer", "user", "member"}
_PAYMENT_WORDS = {"pay", "purchase", "charge", "donate"}
# Placing an order or completing a checkout pays; creating a checkout or an order's draft does not.
_ORDER_PLACED = {"complete", "submit", "place", "process", "confirm", "capture"}
_CART_WORDS = {"cart", "basket", "bag", "lines", "line", "items", "item", "products", "product", "checkout"}


def is_graphql_path(path: str) -> bool:
    """Whether ``path`` is where a GraphQL API is served (``/graphql``, ``/api/graphql``, ``/gql``)."""
    return _GRAPHQL_PATH_RE.search(path) is not None


def operation_name(value: str | None, query: str = "") -> str | None:
    """The operation a request names: ``value`` (a column's) if it is a GraphQL name, else the
    query's ``operationName``; None for neither."""
    if value:
        name = value.strip()[:MAX_OPERATION_LENGTH]
        if _NAME_RE.fullmatch(name):
            return name
    if "operationname=" in query.lower():
        for key, text in parse_qsl(query, keep_blank_values=False):
            if key.lower() == "operationname" and _NAME_RE.fullmatch(text[:MAX_OPERATION_LENGTH]):
                return text[:MAX_OPERATION_LENGTH]
    return None


def operation_words(name: str) -> list[str]:
    """A name's words, lower-cased: ``customerAccessTokenCreate`` -> customer, access, token, create;
    ``sign_in`` and ``signIn`` -> signin (two words that make one)."""
    words = [word.lower() for part in name.split("_") for word in _WORD_RE.findall(part)]
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] in {"log", "sign"} and word in {"in", "out", "off", "up"}:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def operation_event_type(name: str, status: int | None, failed_statuses: frozenset[int] = frozenset()) -> str:
    """An event type for a GraphQL operation, by the words of its name: a login (``tokenCreate``,
    ``login``, ``generateCustomerToken``) is failed at 400 to 499 or one of ``failed_statuses``, and
    otherwise of unknown outcome (``login_attempt``: GraphQL answers a failed login with 200);
    then logout, password reset, sign-up (``accountRegister``, ``customerCreate``), payment
    (``checkoutComplete``, ``placeOrder``: ``purchase``), search, an item added to a cart
    (``checkoutLinesAdd``, ``addToCart``), and ``api_call`` for every other operation."""
    kinds = set(operation_words(name))
    token = bool(kinds & _TOKEN_WORDS)
    if kinds & _LOGOUT_WORDS or (token and kinds & _TOKEN_ENDED):
        return "logout"
    if kinds & _RESET_WORDS or ("password" in kinds and kinds & _PASSWORD_STEPS):
        return "password_reset"
    if (kinds & _LOGIN_WORDS or (token and kinds & _TOKEN_MADE)) and not kinds & _TOKEN_KEPT:
        if status is not None and (400 <= status < 500 or status in failed_statuses):
            return "login_failed"
        return "login_attempt"
    # (an account created, nothing else: an account's address or a user's token created is no sign-up)
    created = {word for word in kinds if not word.isdigit()} - {"create", "new", "v"}
    if kinds & _SIGNUP_WORDS or ("create" in kinds and created and created <= _ACCOUNT_WORDS):
        return "signup"
    ordered = kinds & {"checkout", "order"} and kinds & _ORDER_PLACED and "draft" not in kinds
    if kinds & _PAYMENT_WORDS or ordered or kinds >= {"order", "create"}:
        return "purchase"
    if "search" in kinds:
        return "search"
    if "add" in kinds and kinds & _CART_WORDS:
        return "add_to_cart"
    return "api_call"


def operation_resource(path: str, query: str, operation: str) -> str:
    """The resource of a request for ``operation``: its path with the operation as its last step
    (``/graphql/TokenCreate``), and the query without the name (a persisted query's variables)."""
    rest = "&".join(pair for pair in query.split("&") if pair and not pair.lower().startswith("operationname="))
    return f"{path.rstrip('/')}/{operation}" + (f"?{rest}" if rest else "")
