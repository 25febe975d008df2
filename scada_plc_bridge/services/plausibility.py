"""The PLC trust boundary: are a finished batch's figures plausible enough to
reach stock?  One set of rules, used when the PLC's finish is confirmed
(a batch outside them is held for a manager's review, nothing is posted)
and by Task 4's health report.

Limits (SCADA settings; a silo's own limits override them):
* per silo: the deviation from plan is outside when it exceeds both the
  percentage and the kg limit (so 0.03 kg on a 0.2 kg dose is no alarm);
* a silo the recipe does not use reports more than the unplanned kg
  setting (0 by default: any material booked nowhere holds the batch);
* the finished weight differs from the sum of the consumption, or from the
  planned quantity, by more than the weight percentage;
* nothing consumed, or no finished weight."""

from odoo import _, api, models

from ..const import SILOS


class ScadaPlausibility(models.AbstractModel):
    _name = "scada.plausibility"
    _description = "SCADA plausibility of PLC figures"

    @api.model
    def _limits(self):
        settings = self.env["scada.settings"]
        return {
            "percent": settings._get("plausibility_deviation_percent"),
            "kg": settings._get("plausibility_deviation_kg"),
            "weight_percent": settings._get("plausibility_weight_percent"),
            "unplanned_kg": settings._get("plausibility_unplanned_kg"),
        }

    @api.model
    def _reasons(self, batch, limits=None):
        """Why the batch's figures are implausible, as sentences (empty: plausible)."""
        limits = limits or self._limits()
        silos = {silo.tag: silo for silo in batch.plc_id.silo_ids}
        reasons = []
        consumed = 0.0
        for tag, _silo_id, label in SILOS:
            planned, actual = batch["consumption_" + tag], batch["actual_consumption_" + tag]
            consumed += actual
            silo = silos.get(tag)
            percent = (silo and silo.max_deviation_percent) or limits["percent"]
            kg = (silo and silo.max_deviation_kg) or limits["kg"]
            name = silo.display_name if silo else label
            deviation = actual - planned
            if planned and abs(deviation) > kg and abs(deviation) * 100.0 / planned > percent:
                reasons.append(
                    _("%(silo)s: %(actual).2f kg against %(planned).2f kg planned (%(percent)+.1f %%)")
                    % {
                        "silo": name,
                        "actual": actual,
                        "planned": planned,
                        "percent": deviation * 100.0 / planned,
                    }
                )
            elif not planned and actual > limits["unplanned_kg"]:
                reasons.append(
                    _("%(silo)s: %(actual).2f kg, but the recipe uses no %(silo)s")
                    % {"silo": name, "actual": actual}
                )
        weight = batch.actual_weight_quantity_finished_goods
        if not consumed:
            reasons.append(_("The PLC reports no consumption at all."))
        if not weight:
            reasons.append(_("The PLC reports no finished weight."))
        elif consumed and abs(weight - consumed) * 100.0 / consumed > limits["weight_percent"]:
            reasons.append(
                _("Finished weight %(weight).2f kg against %(consumed).2f kg consumed")
                % {"weight": weight, "consumed": consumed}
            )
        if (
            weight
            and batch.planned_quantity
            and (
                abs(weight - batch.planned_quantity) * 100.0 / batch.planned_quantity
                > limits["weight_percent"]
            )
        ):
            reasons.append(
                _("Finished weight %(weight).2f kg against %(planned).2f kg planned")
                % {"weight": weight, "planned": batch.planned_quantity}
            )
        return reasons
