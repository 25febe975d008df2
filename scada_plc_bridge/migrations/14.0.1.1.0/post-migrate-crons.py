"""The four crons call the task services, not the batch and PLC models.

Their records are `noupdate` (an administrator may have changed their
interval), so an upgrade does not rewrite them: only their model and code
are moved here, their schedule is kept."""

CRONS = {
    "ir_cron_task1_sync_mo": ("scada.task.sync", "model._cron_sync_mo()"),
    "ir_cron_task2_plc_read": ("scada.runner", "model._cron_plc_read()"),
    "ir_cron_task3_process_completed": ("scada.task.finish", "model._cron_process_completed()"),
    "ir_cron_task4_health": ("scada.task.health", "model._check_health()"),
}


def migrate(cr, version):
    if not version:
        return
    for xmlid, (model, code) in CRONS.items():
        cr.execute(
            "UPDATE ir_act_server SET model_id = m.id, model_name = m.model, code = %s"
            " FROM ir_model m, ir_cron c, ir_model_data d"
            " WHERE m.model = %s AND d.module = 'scada_plc_bridge' AND d.name = %s"
            " AND d.model = 'ir.cron' AND c.id = d.res_id AND ir_act_server.id = c.ir_actions_server_id",
            (code, model, xmlid),
        )
