"""The simulated shop: what customers browse, search and buy, as URL paths."""

from __future__ import annotations

import math

CATEGORIES = (
    "shoes",
    "books",
    "garden",
    "toys",
    "kitchen",
    "electronics",
    "sports",
    "beauty",
    "music",
    "outdoor",
)
PRODUCTS = 5000
SEARCH_TERMS = (
    "running+shoes",
    "usb-c+cable",
    "coffee+grinder",
    "lego",
    "yoga+mat",
    "headphones",
    "garden+hose",
    "novel",
    "kettle",
    "backpack",
    "phone+case",
    "tent",
    "board+game",
    "desk+lamp",
    "water+bottle",
    "sunscreen",
)
CURRENCY_BY_COUNTRY = {
    "US": "USD",
    "CA": "CAD",
    "MX": "MXN",
    "BR": "BRL",
    "AR": "ARS",
    "GB": "GBP",
    "JP": "JPY",
    "KR": "KRW",
    "IN": "INR",
    "AU": "AUD",
    "SG": "SGD",
    "CN": "CNY",
    "PL": "PLN",
    "SE": "SEK",
    "ZA": "ZAR",
    "NG": "NGN",
    "RU": "RUB",
    "UA": "UAH",
    "VN": "VND",
    "ID": "IDR",
}
DEFAULT_CURRENCY = "EUR"

HOME = "/"
SIGNUP = "/signup"
LOGIN = "/login"
LOGOUT = "/logout"
PASSWORD_RESET = "/account/password-reset"
ACCOUNT = "/account"
ACCOUNT_SECURITY = "/account/security"
ACCOUNT_PAYMENT = "/account/payment-methods"
CHECKOUT = "/checkout/confirm"
GIFT_CARD_SKU = "GIFT-0500"
# The shop's front-end bundle, which a browser fetches when its cache is cold.
STATIC_ASSETS = (
    "/static/app.3f9c1e.js",
    "/static/app.3f9c1e.css",
    "/static/fonts/inter-var.woff2",
    "/static/img/logo.svg",
)


def sku(number: int) -> str:
    return f"SKU-{number:05d}"


def product_path(number: int) -> str:
    return f"/products/{sku(number)}"


def category_path(category: str, page: int = 1) -> str:
    return f"/catalog/{category}" if page == 1 else f"/catalog/{category}?page={page}"


def search_path(term: str, page: int = 1) -> str:
    return f"/search?q={term}" if page == 1 else f"/search?q={term}&page={page}"


def cart_add_path(product_sku: str, quantity: int) -> str:
    return f"/cart/add?sku={product_sku}&qty={quantity}"


def price_of(number: int) -> float:
    """A stable price for a product: most items are cheap, a few are expensive."""
    spread: float = math.pow(number * 7919 % 1000, 1.6)
    return round(4.99 + spread / 150.0, 2)
