"""The register's front door: suppliers, agreements and their lifecycle, schedules, licences,
switches, consent, DPIA screenings and council decisions — validated, audited, or refused.

Every change is a function here that checks the rules, writes in one transaction and records an
audit event; a change that breaks a rule raises :class:`Refused` with the reason and changes
nothing. Who may change what is decided in one place, ``regie.roster.access`` (the views' decorators
check it before calling):

- board-level records (agreements, DPIA screenings, council decisions) are edited by the board's
  privacy officers and board admins;
- school-level decisions (licences, switches, consent) also by the school's own admins;
- teachers and care coordinators see nothing of the register; other boards see nothing at all.

Suppliers and products are a catalogue shared by the hub's boards: any editor may add them; the
agreements, licences and decisions about them are the board's own.
"""

from __future__ import annotations

from .access import (
    editable_boards as editable_boards,
)
from .access import (
    editable_schools as editable_schools,
)
from .access import (
    offers as offers,
)
from .access import (
    visible_agreements as visible_agreements,
)
from .access import (
    visible_licences as visible_licences,
)
from .agreements import (
    AGREEMENT_FIELDS as AGREEMENT_FIELDS,
)
from .agreements import (
    SIGNATURE_FIELDS as SIGNATURE_FIELDS,
)
from .agreements import (
    TRANSITIONS as TRANSITIONS,
)
from .agreements import (
    add_deviation as add_deviation,
)
from .agreements import (
    adopt_offer as adopt_offer,
)
from .agreements import (
    check_transition as check_transition,
)
from .agreements import (
    copy_contents as copy_contents,
)
from .agreements import (
    create_agreement as create_agreement,
)
from .agreements import (
    transition as transition,
)
from .agreements import (
    update_agreement as update_agreement,
)
from .common import (
    Refused as Refused,
)
from .common import (
    User as User,
)
from .dashboard import (
    ENDING_DAYS as ENDING_DAYS,
)
from .dashboard import (
    TodoLine as TodoLine,
)
from .dashboard import (
    add_todo_source as add_todo_source,
)
from .dashboard import (
    dpia_rows as dpia_rows,
)
from .dashboard import (
    flows as flows,
)
from .dashboard import (
    todo as todo,
)
from .declarations import (
    declaration_pending as declaration_pending,
)
from .declarations import (
    declare_suppliers as declare_suppliers,
)
from .declarations import (
    declared_suppliers as declared_suppliers,
)
from .obligations import (
    DPIA_FIELDS as DPIA_FIELDS,
)
from .obligations import (
    dpia_states as dpia_states,
)
from .obligations import (
    record_council_decision as record_council_decision,
)
from .obligations import (
    record_dpia as record_dpia,
)
from .obligations import (
    require_dpias as require_dpias,
)
from .obligations import (
    screen_dpia as screen_dpia,
)
from .obligations import (
    screening_for as screening_for,
)
from .obligations import (
    waive_dpia as waive_dpia,
)
from .proofs import (
    ProofCheck as ProofCheck,
)
from .proofs import (
    check_proof as check_proof,
)
from .proofs import (
    register_proof as register_proof,
)
from .schedules import (
    ECK_ID as ECK_ID,
)
from .schedules import (
    EEA as EEA,
)
from .schedules import (
    EckIdRecipient as EckIdRecipient,
)
from .schedules import (
    add_processing as add_processing,
)
from .schedules import (
    add_subprocessor as add_subprocessor,
)
from .schedules import (
    eck_id_recipients as eck_id_recipients,
)
from .schedules import (
    remove_processing as remove_processing,
)
from .schedules import (
    save_schedule as save_schedule,
)
from .schedules import (
    validate_processing as validate_processing,
)
from .schedules import (
    validate_subprocessor as validate_subprocessor,
)
from .school import (
    AGE_OF_OWN_CONSENT as AGE_OF_OWN_CONSENT,
)
from .school import (
    RevokedLicence as RevokedLicence,
)
from .school import (
    consent_history as consent_history,
)
from .school import (
    current_agreement as current_agreement,
)
from .school import (
    decides_own_consent as decides_own_consent,
)
from .school import (
    grant_licence as grant_licence,
)
from .school import (
    licensable_products as licensable_products,
)
from .school import (
    licensed_products as licensed_products,
)
from .school import (
    record_consent as record_consent,
)
from .school import (
    restore_licence as restore_licence,
)
from .school import (
    revoke_licence as revoke_licence,
)
from .school import (
    schedule_attributes as schedule_attributes,
)
from .school import (
    set_switch as set_switch,
)
from .school import (
    switched_on as switched_on,
)
from .suppliers import (
    PRODUCT_FIELDS as PRODUCT_FIELDS,
)
from .suppliers import (
    SUPPLIER_FIELDS as SUPPLIER_FIELDS,
)
from .suppliers import (
    save_product as save_product,
)
from .suppliers import (
    save_supplier as save_supplier,
)
