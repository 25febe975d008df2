"""Fields renamed to say what they hold: `mo_id` (a Char with the MO's
name, not a Many2one) is `mo_reference`, and `consumption` (the planned
quantity of finished goods, not a consumption) is `planned_quantity`.

Before the module's new fields are loaded, the columns and the fields'
records are renamed, so the history keeps its data and the chatter its
tracking values (which point at the fields' records)."""

RENAMED = {
    "mo.batch": {"mo_id": "mo_reference", "consumption": "planned_quantity"},
    "mo.history": {"mo_id": "mo_reference", "consumption": "planned_quantity"},
    "scada.alarm": {"mo_id": "mo_reference"},
    "scada.batch.data": {"mo_id": "mo_reference", "consumption": "planned_quantity"},
}


def _column_exists(cr, table, column):
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s", (table, column)
    )
    return bool(cr.fetchone())


def migrate(cr, version):
    if not version:
        return
    # The report is a view over these columns: Odoo makes it again after the update.
    cr.execute("DROP VIEW IF EXISTS scada_consumption_report")
    for model, fields in RENAMED.items():
        table = model.replace(".", "_")
        for old, new in fields.items():
            if _column_exists(cr, table, old) and not _column_exists(cr, table, new):
                cr.execute('ALTER TABLE "%s" RENAME COLUMN "%s" TO "%s"' % (table, old, new))
            cr.execute(
                "UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s", (new, model, old)
            )
            cr.execute(
                "UPDATE ir_model_data SET name = %s WHERE model = 'ir.model.fields'"
                " AND module = 'scada_plc_bridge' AND name = %s",
                ("field_%s__%s" % (table, new), "field_%s__%s" % (table, old)),
            )
