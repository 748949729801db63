"""Reading training configs: one YAML file plus `key=value` overrides, for every command.

The stages (`cogaudio-train sft`), DR-SAPO, the pipeline, LIME and the corpora all read their
settings the same way: a YAML mapping, then `--set key=value` overrides whose dotted keys reach
nested sections (`model.lora_r=4`) and whose values are parsed as YAML (`4` is an int, `true`
a bool, `[a, b]` a list). Relative paths in a config are meant from the config's own folder.
PyYAML parses; what no library does is the dotted override, hence this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: str | Path, example: str = "configs/tiny-cpu.yaml") -> dict[str, Any]:
    """The mapping in `path`; a missing file or anything but a mapping is a clear error."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config {p} not found; see {example} for an example")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{p} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a mapping of config fields")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str] | None, example: str = "max_steps=4") -> dict[str, Any]:
    """Apply `key=value` items to `data` in place (dotted keys create nested sections); returns it."""
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} must look like key=value (for example {example})")
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r}: {part} is not a section")
        node[leaf] = yaml.safe_load(value)
    return data


def resolve_from(base: Path, path: Path) -> Path:
    """`path` as written in a config in folder `base`: absolute paths stay, relative ones join `base`."""
    return path if path.is_absolute() else (base / path).resolve()
