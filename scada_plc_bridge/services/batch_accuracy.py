"""A finished batch's yield and material accuracy, figured once when it is
archived (Task 3) and stored on its history record: the grading rule is
rules.GRADE, its limits the SCADA settings, overridden per silo as the
plausibility limits are (0 on the silo: the setting).

Consumed is what the PLC's silos report: manual weighings are left out (they
are posted to the MO apart, and may be held for review after the batch is
archived), so the yield says how the line itself did."""

from odoo import api, models

from ..const import SILO_TAGS
from ..rules import GRADE, exact_kg, yield_percent


class ScadaBatchAccuracy(models.AbstractModel):
    _name = "scada.batch.accuracy"
    _description = "SCADA batch yield and accuracy"

    @api.model
    def _limits(self, plc):
        """((warning, critical) of the settings, {silo tag: (warning, critical)})."""
        settings = self.env["scada.settings"]
        default = (settings._get(GRADE.warning.setting), settings._get(GRADE.critical.setting))
        per_silo = {
            silo.tag: (
                silo.accuracy_warning_percent or default[0],
                silo.accuracy_critical_percent or default[1],
            )
            for silo in plc.with_context(active_test=False).silo_ids
        }
        return default, per_silo

    @api.model
    def _values(self, batch):
        """The history's figures of a completed batch: yield, total deviation,
        each used silo's grade and the overall grade (the worst of them)."""
        default, per_silo = self._limits(batch.plc_id)
        values, grades = {}, []
        planned_total = consumed = 0.0
        for tag in SILO_TAGS:
            planned, actual = batch["consumption_" + tag], batch["actual_consumption_" + tag]
            planned_total += planned
            consumed += actual
            grade = False
            if exact_kg(planned) or exact_kg(actual):
                grade = GRADE.grade(planned, actual, *per_silo.get(tag, default))
                grades.append(grade)
            values["accuracy_grade_" + tag] = grade
        grades.append(GRADE.grade(planned_total, consumed, *default))
        values.update(
            yield_percent=yield_percent(batch.actual_weight_quantity_finished_goods, consumed),
            deviation_percent=(consumed - planned_total) * 100.0 / planned_total if planned_total else 0.0,
            accuracy_grade=GRADE.worst(grades),
        )
        return values
