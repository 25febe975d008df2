"""The upgrade scripts of migrations/, run on this database's records as
an upgrade from the previous version would run them."""

import importlib.util
import pathlib

from odoo.tests import SavepointCase, tagged

from ..const import ARCHIVE_CONTEXT_KEY

MIGRATIONS = pathlib.Path(__file__).resolve().parent.parent / "migrations"


def load(version, name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), MIGRATIONS / version / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestMigrations(SavepointCase):
    def test_the_crons_of_an_older_install_call_the_services_and_keep_their_schedule(self):
        task3 = self.env.ref("scada_plc_bridge.ir_cron_task3_process_completed")
        # As 14.0.1.0.0 left it, with an interval the administrator chose.
        task3.write(
            {
                "model_id": self.env.ref("scada_plc_bridge.model_mo_batch").id,
                "code": "model._cron_process_completed()",
                "interval_number": 7,
            }
        )
        load("14.0.1.1.0", "post-migrate-crons.py").migrate(self.env.cr, "14.0.1.0.0")
        task3.invalidate_cache()
        self.assertEqual(task3.model_id.model, "scada.task.finish")
        self.assertEqual(task3.code, "model._cron_process_completed()")
        self.assertTrue(callable(self.env[task3.model_id.model]._cron_process_completed))
        self.assertEqual(task3.interval_number, 7)

    def test_renamed_fields_keep_the_history_data_and_their_field_records(self):
        plc = self.env["scada.plc"].create({"name": "Migration line", "code": "MIG01", "port": 9})
        archive = self.env["mo.history"].with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo()
        history = archive.create(
            {
                "mo_reference": "WH/MO/00077",
                "planned_quantity": 500.0,
                "status": "completed",
                "plc_id": plc.id,
            }
        )
        history.flush()
        field_id = self.env["ir.model.fields"]._get("mo.history", "mo_reference").id
        cr = self.env.cr
        # The database as 14.0.1.0.0 left it (rolled back with the test).
        for table, columns in (
            ("mo_history", ("mo_reference", "planned_quantity")),
            ("mo_batch", ("mo_reference", "planned_quantity")),
            ("scada_alarm", ("mo_reference",)),
        ):
            for column in columns:
                old = {"mo_reference": "mo_id", "planned_quantity": "consumption"}[column]
                cr.execute('ALTER TABLE "%s" RENAME COLUMN "%s" TO "%s"' % (table, column, old))
        cr.execute("UPDATE ir_model_fields SET name = 'mo_id' WHERE name = 'mo_reference'")
        cr.execute("UPDATE ir_model_fields SET name = 'consumption' WHERE name = 'planned_quantity'")
        load("14.0.1.1.0", "pre-migrate-rename-fields.py").migrate(cr, "14.0.1.0.0")
        cr.execute("SELECT mo_reference, planned_quantity FROM mo_history WHERE id = %s", (history.id,))
        self.assertEqual(cr.fetchone(), ("WH/MO/00077", 500.0))
        cr.execute("SELECT name FROM ir_model_fields WHERE id = %s", (field_id,))
        self.assertEqual(cr.fetchone()[0], "mo_reference", "the same field record: tracking values keep it")
        cr.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_name = 'scada_alarm' AND column_name = 'mo_id'"
        )
        self.assertFalse(cr.fetchone())
