"""The CapabilityStatement, generated from the resource registry so that it lists exactly
the types, interactions and search parameters the server supports."""

from __future__ import annotations

from typing import Any

from .mapping import FHIR_VERSION, compact, validated
from .resources import REGISTRY
from .search import DEFAULT_COUNT, MAX_COUNT

# The date this statement last changed (CapabilityStatement.date).
PUBLISHED = "2026-11-29"

REST_DOCUMENTATION = (
    "Read-only FHIR R4 API of osseo-mdt. Authenticate as for the REST API: "
    "'Authorization: Token <token>' from POST /api/v1/auth/token/ (or a signed-in session). "
    "Every result is limited to the caller's teams; another team's resource is 404. "
    "Searches return a searchset Bundle with total and self/first/previous/next/last links; "
    f"_count defaults to {DEFAULT_COUNT} and is capped at {MAX_COUNT}; follow the links to "
    "page (they carry _offset). A comma in a value means OR, a repeated parameter AND. "
    "Unknown search parameters or modifiers are a 400 OperationOutcome (strict handling) "
    "unless the request says 'Prefer: handling=lenient', which ignores them. Date "
    "parameters take the prefixes eq, ne, gt, lt, ge, le, sa, eb at year, month or day "
    "precision (a time part is ignored). JSON only (application/fhir+json; _format=json)."
)


def _resource(name: str) -> dict[str, Any]:
    resource = REGISTRY[name]
    return {
        "type": name,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{name}",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalRead": "not-supported",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [
            {
                "name": param.name,
                "definition": param.definition,
                "type": param.type,
                "documentation": param.documentation,
            }
            for param in resource.params.values()
        ],
    }


def capability_statement(base_url: str) -> dict[str, Any]:
    return validated(
        compact(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "date": PUBLISHED,
                "publisher": "osseo-mdt",
                "kind": "instance",
                "software": {"name": "osseo-mdt"},
                "implementation": {
                    "description": "osseo-mdt FHIR R4 API (read-only)",
                    "url": base_url,
                },
                "fhirVersion": FHIR_VERSION,
                "format": ["application/fhir+json", "json"],
                "rest": [
                    {
                        "mode": "server",
                        "documentation": REST_DOCUMENTATION,
                        "security": {
                            "cors": False,
                            "description": (
                                "Token (django-rest-knox) or session authentication; "
                                "anonymous requests get 401. Reads of Patient and "
                                "EpisodeOfCare are access-logged."
                            ),
                        },
                        "resource": [_resource(name) for name in sorted(REGISTRY)],
                    }
                ],
            }
        )
    )
