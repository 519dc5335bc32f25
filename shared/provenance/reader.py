"""The C2PA side of the provenance stage: read one file's manifest store with c2pa-python
(the Content Authenticity Initiative's bindings of c2pa-rs), validate it, and summarise it.

`read_manifest` is what runs; `summarise` is the rule that turns a manifest store into the
public `provenance` document. It is executed as a script in a child process (started by
`shared.provenance.read_provenance`) under an
address-space limit and a wall-clock timeout, so that a hostile manifest can cost neither
the worker's memory nor its time, and a crash in native code only ends the child.

Protocol: one JSON request on stdin (`{"path", "format", "trust_anchors_pem", "max_memory_mb"}`),
one JSON document on stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# Imports nothing of ours: it also runs as a script, in a child with only the stdlib and c2pa.

#: IPTC digital source types that declare generative-AI media (the c2pa.org and IPTC URIs end
#: the same way). Any other declared type (digitalCapture, minorHumanEdits, algorithmicMedia,
#: ...) declares media that is not AI-generated.
AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
#: Validation codes that are not errors of the manifest itself: trust has its own field.
TRUST_CODES = frozenset({"signingCredential.untrusted"})
#: Bounds on what one summary may carry, whatever the manifest holds.
MAX_LIST = 32
MAX_TEXT = 300


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = value if isinstance(value, str) else json.dumps(value)
    return s if len(s) <= MAX_TEXT else s[: MAX_TEXT - 1] + "…"


def source_type_name(uri: str) -> str:
    """`http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia` -> its last part."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict):
            continue
        label = str(assertion.get("label", ""))
        if label.split(".v")[0] != "c2pa.actions":  # c2pa.actions, c2pa.actions.v2
            continue
        data = assertion.get("data") or {}
        for action in (data.get("actions") if isinstance(data, dict) else None) or []:
            if isinstance(action, dict):
                found.append(action)
    return found


def _software_agent(action: dict[str, Any]) -> str | None:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        name, version = agent.get("name"), agent.get("version")
        return _text(f"{name} {version}" if name and version else name)
    return _text(agent)


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = info[0].get("name"), info[0].get("version")
        return _text(f"{name} {version}" if name and version else name)
    return _text(manifest.get("claim_generator"))


def ai_declaration(actions: list[dict[str, Any]]) -> bool | None:
    """True when an action declares an AI digital source type, False when actions declare only
    other source types, None when no action declares one. Declared only: never inferred."""
    declared = [source_type_name(str(a["digitalSourceType"])) for a in actions if a.get("digitalSourceType")]
    if not declared:
        return None
    return any(d in AI_SOURCE_TYPES for d in declared)


def absent() -> dict[str, Any]:
    """The document of media that carries no manifest."""
    return {
        "present": False,
        "valid": False,
        "trusted": False,
        "validation_errors": [],
        "signer": None,
        "claim_generator": None,
        "created_at": None,
        "actions": [],
        "ai_generated": None,
        "ingredients": 0,
    }


def unreadable(code: str, explanation: str, *, present: bool = True) -> dict[str, Any]:
    """The document of a manifest that could not be read or validated: shown, never hidden."""
    return absent() | {
        "present": present,
        "validation_errors": [{"code": code, "explanation": _text(explanation) or ""}],
    }


def summarise(store: dict[str, Any]) -> dict[str, Any]:
    """A c2pa manifest store (`Reader.json()`) -> the public `provenance` document."""
    active = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    manifest = manifests.get(active) if isinstance(manifests, dict) and active else None
    state = store.get("validation_state")
    errors = [
        {"code": _text(s.get("code")) or "", "explanation": _text(s.get("explanation")) or ""}
        for s in (store.get("validation_status") or [])
        if isinstance(s, dict) and s.get("code") not in TRUST_CODES
    ]
    if not isinstance(manifest, dict):
        errors.append({"code": "claim.missing", "explanation": "the manifest store has no active manifest"})
        return absent() | {"present": True, "validation_errors": errors[:MAX_LIST]}
    valid = state in ("Valid", "Trusted")
    if not valid and not errors:
        errors.append({"code": "manifest.invalid", "explanation": f"validation state {state}"})
    sig_info = manifest.get("signature_info")
    sig: dict[str, Any] = sig_info if isinstance(sig_info, dict) else {}
    actions = _actions(manifest)
    created = next((a.get("when") for a in actions if a.get("action") == "c2pa.created"), None)
    ingredients = manifest.get("ingredients")
    return {
        "present": True,
        "valid": valid,
        "trusted": state == "Trusted",
        "validation_errors": errors[:MAX_LIST],
        "signer": {"issuer": _text(sig.get("issuer")), "common_name": _text(sig.get("common_name"))}
        if sig
        else None,
        "claim_generator": _claim_generator(manifest),
        # A trusted time-stamp when the signer had one, else what the creating action declares.
        "created_at": _text(sig.get("time") or created),
        "actions": [
            {
                "action": _text(a.get("action")),
                "digital_source_type": source_type_name(str(a["digitalSourceType"]))
                if a.get("digitalSourceType")
                else None,
                "software_agent": _software_agent(a),
                "when": _text(a.get("when")),
            }
            for a in actions[:MAX_LIST]
        ],
        "ai_generated": ai_declaration(actions),
        "ingredients": len(ingredients) if isinstance(ingredients, list) else 0,
    }


def read_manifest(path: str, media_format: str, trust_anchors_pem: str | None) -> dict[str, Any]:
    """Read, validate and summarise the manifest of the file at `path` (a MIME type in
    `media_format`). Every failure becomes a document; nothing raises."""
    import c2pa

    # Never reach the network: c2pa-rs would otherwise fetch a manifest from any URL a file
    # names (a request from the worker to wherever the uploader chose) and OCSP responders.
    settings: dict[str, Any] = {
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}
    }
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    try:
        context = c2pa.Context(c2pa.Settings.from_dict(settings))
    except c2pa.C2paError as exc:
        return unreadable(
            "dfs.trustListInvalid", f"the configured trust list was refused: {exc}", present=False
        )
    try:
        with open(path, "rb") as f, c2pa.Reader(media_format, f, context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return absent()
    except c2pa.C2paError.NotSupported:
        return absent()  # a container C2PA does not define (Matroska, WebM) carries no manifest
    except c2pa.C2paError as exc:
        if isinstance(exc, c2pa.C2paError.RemoteManifest) or str(exc).startswith("Remote"):
            return unreadable(
                "dfs.remoteManifestNotFetched",
                f"the manifest is stored remotely and remote manifests are not fetched ({exc})",
            )
        return unreadable("dfs.manifestUnreadable", f"the manifest could not be read: {exc}")
    except (ValueError, RecursionError, MemoryError) as exc:
        return unreadable("dfs.manifestUnreadable", f"the manifest could not be read: {exc}")
    try:
        return summarise(store)
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:
        return unreadable("dfs.manifestUnreadable", f"the manifest could not be summarised: {exc}")


def _limit_memory(max_memory_mb: int) -> None:
    try:
        import resource

        limit = max_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX: the timeout still bounds it
        pass


def main() -> None:
    request = json.loads(sys.stdin.read())
    _limit_memory(int(request["max_memory_mb"]))
    doc = read_manifest(request["path"], request["format"], request.get("trust_anchors_pem"))
    sys.stdout.write(json.dumps(doc))


if __name__ == "__main__":
    main()
