"""The upgrade scripts of migrations/, run on this database's records as
an upgrade from the previous version would run them."""

import importlib.util
import pathlib

from odoo.tests import SavepointCase, tagged

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
