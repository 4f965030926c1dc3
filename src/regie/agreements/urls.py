from django.urls import path

from .views import audit, code, dashboard, documents, register, school

app_name = "agreements"

urlpatterns = [
    path("", register.overview, name="overview"),
    path("overzicht/", dashboard.dashboard, name="dashboard"),
    path("dpia/", dashboard.dpia_list, name="dpias"),
    # suppliers and products (the shared catalogue)
    path("leveranciers/", register.supplier_list, name="suppliers"),
    path("leveranciers/nieuw/", register.supplier_create, name="supplier-create"),
    path("leveranciers/<int:supplier_id>/", register.supplier_detail, name="supplier"),
    path("leveranciers/<int:supplier_id>/wijzigen/", register.supplier_edit, name="supplier-edit"),
    path(
        "leveranciers/<int:supplier_id>/producten/nieuw/",
        register.product_create,
        name="product-create",
    ),
    path("producten/<int:product_id>/", register.product_detail, name="product"),
    path("producten/<int:product_id>/wijzigen/", register.product_edit, name="product-edit"),
    path("producten/<int:product_id>/dpia/", register.product_dpia, name="product-dpia"),
    path(
        "producten/<int:product_id>/dpia/vastleggen/",
        dashboard.dpia_record,
        name="product-dpia-record",
    ),
    path(
        "producten/<int:product_id>/dpia/uitzondering/",
        dashboard.dpia_waiver,
        name="product-dpia-waiver",
    ),
    # processing agreements and their data schedules
    path("overeenkomsten/", register.agreement_list, name="agreements"),
    path("overeenkomsten/nieuw/", register.agreement_create, name="agreement-create"),
    path("overeenkomsten/importeren/", code.agreement_import, name="agreement-import"),
    path("overeenkomsten/<int:agreement_id>/", register.agreement_detail, name="agreement"),
    path(
        "overeenkomsten/<int:agreement_id>/wijzigen/",
        register.agreement_edit,
        name="agreement-edit",
    ),
    path(
        "overeenkomsten/<int:agreement_id>/status/",
        register.agreement_transition,
        name="agreement-transition",
    ),
    path(
        "overeenkomsten/<int:agreement_id>/status/<str:to>/bevestigen/",
        register.agreement_confirm,
        name="agreement-confirm",
    ),
    path(
        "overeenkomsten/<int:agreement_id>/afwijking/",
        register.deviation_add,
        name="deviation-add",
    ),
    path(
        "overeenkomsten/<int:agreement_id>/bijsluiter/",
        register.schedule_add,
        name="schedule-add",
    ),
    path(
        "overeenkomsten/<int:agreement_id>/export.<str:fmt>",
        code.agreement_export,
        name="agreement-export",
    ),
    path(
        "bijsluiters/<int:schedule_id>/verwerking/",
        register.processing_add,
        name="processing-add",
    ),
    path(
        "bijsluiters/<int:schedule_id>/subverwerker/",
        register.subprocessor_add,
        name="subprocessor-add",
    ),
    path(
        "verwerkingen/<int:processing_id>/verwijderen/",
        register.processing_remove,
        name="processing-remove",
    ),
    path(
        "verwerkingen/<int:processing_id>/terugzetten/",
        register.processing_restore,
        name="processing-restore",
    ),
    # suppliers' published offers
    path("aanbod/", register.offer_list, name="offers"),
    path("aanbod/<int:agreement_id>/", register.offer_detail, name="offer"),
    path("aanbod/<int:agreement_id>/overnemen/", register.offer_adopt, name="offer-adopt"),
    # the school's decisions
    path("licenties/", school.licence_list, name="licences"),
    path("licenties/nieuw/", school.licence_create, name="licence-create"),
    path("licenties/<int:licence_id>/intrekken/", school.licence_revoke, name="licence-revoke"),
    path("licenties/<int:licence_id>/herstellen/", school.licence_restore, name="licence-restore"),
    path(
        "scholen/<int:school_id>/producten/<int:product_id>/schakelaars/",
        school.switches,
        name="switches",
    ),
    path("leerlingen/<int:student_id>/toestemming/", school.consents, name="consents"),
    path("medezeggenschap/", school.council, name="council"),
    path("auditlog/", audit.audit_log_page, name="audit-log"),
    # documents generated from the register
    path("register/art30.<str:fmt>", documents.art30_export, name="art30"),
    path(
        "scholen/<int:school_id>/privacyverklaring/",
        documents.privacy_statement,
        name="privacy-statement",
    ),
    path(
        "scholen/<int:school_id>/privacyverklaring/afdrukken/",
        documents.privacy_statement_print,
        name="privacy-statement-print",
    ),
]
