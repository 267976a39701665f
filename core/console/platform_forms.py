"""Form helpers shared by the platform console's pages: turning the API's nested validation
errors into one message per form field, and reading the module-and-features part of a form.

The pages validate with the platform API's own schemas (core/platform/schemas.py) and call its
services, so a form and an API call obey the same rules; only the shape of the input differs
(flat form fields instead of JSON objects).
"""

from __future__ import annotations

from typing import Any

from flask import request

from core.platform.services import PlatformModule


def flatten_errors(errors: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """``{"owner": {"email": ["..."]}}`` -> ``{"owner_email": ["..."]}``. Under ``modules``
    the module's key stays in the text (``catalog: unknown feature``) and the field is
    ``modules``."""
    flat: dict[str, list[str]] = {}
    for name, value in errors.items():
        field = f"{prefix}_{name}" if prefix else str(name)
        if isinstance(value, dict):
            if field == "modules":
                flat.setdefault("modules", []).extend(
                    f"{key}: {message}" for key, messages in value.items()
                    for message in _messages(messages))
            else:
                for key, messages in flatten_errors(value, field).items():
                    flat.setdefault(key, []).extend(messages)
        else:
            flat.setdefault(field, []).extend(_messages(value))
    return flat


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, inner in value.items() for message in _messages(inner)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def feature_field(module_key: str, feature: str) -> str:
    return f"feature.{module_key}.{feature}"


def read_module_selection(modules: list[PlatformModule]
                          ) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The ``modules`` of a template form: checked modules (``module`` inputs) with the feature
    values typed in (``feature.<module>.<name>``; blank keeps the module's default). A value is
    converted to its default's type; what the module accepts is then checked by the service."""
    known = {module.key: module for module in modules}
    selected: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for key in request.form.getlist("module"):
        module = known.get(key)
        features: dict[str, Any] = {}
        for name, default in (module.features if module else {}).items():
            raw = request.form.get(feature_field(key, name), "").strip()
            if raw == "":
                continue
            try:
                features[name] = _typed(raw, default)
            except ValueError as exc:
                errors[feature_field(key, name)] = [str(exc)]
        selected[key] = features
    return selected, errors


def _typed(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw not in ("true", "false"):
            raise ValueError("must be yes or no")
        return raw == "true"
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
    return raw[:2000]
