"""Privacy as code: a processing agreement and its data schedules as one YAML or JSON document.

The format is ``regie-agreement/1`` (``docs/privacy-as-code.md``, example in
``docs/examples/verwerkersovereenkomst.yaml``): the supplier, its products, the agreement's fields
(title, model, version, signatories, dates), the deviations from the model, and a data schedule
(privacybijsluiter) per product with its processings and subprocessors.

- :func:`parse` (:mod:`.reading`) reads YAML or JSON (at most :data:`MAX_BYTES`; no anchors or
  aliases, no duplicate keys) and validates it whole against the pydantic models of
  :mod:`.document`: unknown keys, wrong types, values outside the models' choices and attributes
  outside the catalogue are refused, and the rules themselves come from where they live
  (:func:`services.validate_processing`, :func:`services.validate_subprocessor`, the models' field
  validators). Every problem is listed as ``path: reason`` in one :class:`DocumentRefused`; values
  from the file are never echoed at length.
- :func:`import_agreement` (:mod:`.creating`) creates a *draft* agreement of a board from a
  document, and :func:`publish_offer` a supplier's *offer* (no board; any board can adopt it with
  :func:`services.adopt_offer`), both through :mod:`regie.agreements.services` and in one
  transaction: on any refusal nothing is created. A supplier is matched by KvK number and a
  product by the supplier and its name; records the register already has are used as they are.
- :func:`dump_agreement`, :func:`to_yaml` and :func:`to_json` (:mod:`.writing`) write an agreement
  back in the same format: ``dump(import(document))`` is the document again (with
  ``agreement.status`` added; subprocessors in the order of their names).
"""

from .creating import import_agreement, publish_offer
from .document import FORMAT, AgreementDocument, DocumentRefused, Problem
from .reading import MAX_BYTES, parse
from .writing import dump_agreement, to_json, to_yaml

__all__ = [
    "FORMAT",
    "MAX_BYTES",
    "AgreementDocument",
    "DocumentRefused",
    "Problem",
    "dump_agreement",
    "import_agreement",
    "parse",
    "publish_offer",
    "to_json",
    "to_yaml",
]
