"""A read-only HL7 FHIR R4 (4.0.1) API under /fhir/r4/ for hospital systems.

- ``terminology``: code systems, standard codes (LOINC, SNOMED CT, UCUM) and our local ones.
- ``mapping``: one builder per resource, record in, FHIR JSON out (validated by the model
  library before it leaves).
- ``search``: parsing of FHIR search parameters (token, reference, date, string).
- ``resources``: per resource type, the scoped queryset, its search parameters and builder.
- ``views``: the HTTP side: read, search-type, metadata, OperationOutcome errors.
"""
