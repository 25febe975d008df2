import threading
import uuid

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tests.common import BaseCase, Form, get_db_name


@tagged("post_install", "-at_install")
class TestConcurrentProcessing(BaseCase):
    """Two transactions never finish the same batch: needs committed data and
    real concurrent PostgreSQL transactions, so this test commits (in the
    throw-away test database) instead of running in a savepoint."""

    def test_a_locked_batch_is_skipped_and_finished_once(self):
        registry = odoo.registry(get_db_name())
        with api.Environment.manage():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                batch_id, production_id = self._committed_finished_batch(env)
            first, second = registry.cursor(), registry.cursor()
            try:
                env_first = api.Environment(first, SUPERUSER_ID, {})
                locked = env_first["scada.task.finish"]._lock_finished([batch_id])
                self.assertEqual(locked.id, batch_id)
                # A concurrent Task 3 (or a Retry push button) skips the locked row.
                result = {}

                def concurrent_task3():
                    try:
                        with api.Environment.manage():
                            env = api.Environment(second, SUPERUSER_ID, {})
                            result["second"] = env["scada.task.finish"]._cron_process_completed()
                    except Exception as error:  # reported by the assertion below
                        result["second"] = error

                runner = threading.Thread(target=concurrent_task3)
                runner.start()
                runner.join(30)
                self.assertEqual(result["second"][0], 0)  # finished nothing: ours was locked
                self.assertTrue(
                    env_first["scada.task.finish"]._push_to_odoo(locked),
                    locked.exists() and locked.last_error,
                )
                first.commit()
                second.rollback()
                env_second = api.Environment(second, SUPERUSER_ID, {})
                self.assertEqual(env_second["scada.task.finish"]._cron_process_completed()[0], 0)
            finally:
                first.close()
                second.close()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                self.assertEqual(env["mrp.production"].browse(production_id).state, "done")
                self.assertEqual(env["mo.history"].search_count([("production_id", "=", production_id)]), 1)
                self.assertFalse(env["mo.batch"].browse(batch_id).exists())

    def _committed_finished_batch(self, env):
        kg = env.ref("uom.product_uom_kgm")
        plc = env["scada.plc"].create(
            {"name": "Concurrency", "code": "CONC-%s" % uuid.uuid4().hex[:8], "port": 9}
        )
        product = env["product.product"].create(
            {"name": "CONC FEED", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        component = env["product.product"].create(
            {"name": "CONC CORN", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        bom = env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 100,
                "product_uom_id": kg.id,
                "scada_plc_id": plc.id,
                "bom_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": component.id,
                            "product_qty": 100,
                            "scada_silo_id": plc.silo_ids.filtered(lambda s: s.tag == "silo_a").id,
                        },
                    )
                ],
            }
        )
        form = Form(env["mrp.production"])
        form.product_id, form.bom_id, form.product_qty = product, bom, 100
        production = form.save()
        production.action_confirm()
        batch = env["mo.batch"].create(
            dict(
                env["scada.task.sync"]._values_from_production(production, plc, 1),
                actual_consumption_silo_a=99.5,
                actual_weight_quantity_finished_goods=99.5,
                status_manufacturing=True,
                plc_write_state="written",
            )
        )
        return batch.id, production.id
