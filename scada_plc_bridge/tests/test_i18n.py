import io
import os

import polib
from odoo.tests import SavepointCase, tagged
from odoo.tools import trans_export

I18N_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "i18n")
# The plant's words: a reviewed term is checked, not only present.  Actions
# and states differ ("Batalkan" the button, "Dibatalkan" the state); "Scale"
# is a multiplier, not a weighing scale; word and byte order are named apart.
TERMS = {
    "Cancel": "Batalkan",
    "Cancel batch": "Batalkan batch",
    "Cancelled": "Dibatalkan",
    "Scale": "Faktor Skala",
    "Planned (kg)": "Rencana (kg)",
    "Actual (kg)": "Aktual (kg)",
    "Deviation (kg)": "Selisih (kg)",
    "Deviation (%)": "Selisih (%)",
    "Error": "Kesalahan",
    "High word first": "Word tinggi dahulu",
    "Low word first": "Word rendah dahulu",
    "High byte first": "Byte tinggi dahulu",
    "Low byte first": "Byte rendah dahulu",
    "Running": "Berjalan",
    "Pending": "Menunggu",
    "Completed": "Selesai",
    "Failed to Push": "Gagal Dikirim",
    "Retry push": "Kirim ulang",
    "PLC Failure": "Kegagalan PLC",
    "PLC failures": "Kegagalan PLC",
    "Consumption": "Pemakaian",
    "Material": "Material",
    "Within Tolerance": "Dalam Toleransi",
    "Outside tolerance": "Di luar toleransi",
    "Day report": "Laporan harian",
    "Print": "Cetak",
    "DM Address": "Alamat DM",
    "Manufacturing Order": "Order Produksi",
    "Manufacturing order %s is already done.": "Order produksi %s sudah selesai.",
    "Stale (no PLC read for longer than the setting)": "Tanpa pembacaan (lebih lama dari pengaturan)",
    # "Konfirmasi" reads as "confirm": an alarm is marked as seen, not confirmed.
    "Acknowledge": "Tandai sudah dilihat",
    "Acknowledge all": "Tandai semua sudah dilihat",
}


@tagged("post_install", "-at_install")
class TestIndonesian(SavepointCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["base.language.install"].create({"lang": "id_ID", "overwrite": True}).lang_install()
        cls.env_id = cls.env(context=dict(cls.env.context, lang="id_ID"))

    def test_field_labels_and_states_are_indonesian(self):
        fields = self.env_id["mo.batch"].fields_get(["last_read_from_plc", "state"])
        self.assertEqual(fields["last_read_from_plc"]["string"], "Pembacaan PLC Terakhir")
        self.assertIn(("push_failed", "Gagal Dikirim"), fields["state"]["selection"])

    def test_views_and_menus_are_indonesian(self):
        arch = self.env_id["mo.batch"].fields_view_get(view_type="form")["arch"]
        self.assertIn("Kirim ulang", arch)
        menu = self.env_id.ref("scada_plc_bridge.mo_batch_failed_to_push_menu")
        self.assertEqual(menu.name, "Gagal dikirim")

    def test_messages_from_code_are_indonesian(self):
        plc = self.env_id.ref("scada_plc_bridge.scada_plc_default")
        notification = plc.action_run_task4_health()
        self.assertEqual(notification["params"]["message"], "Tugas 4: 0 masalah terbuka.")

    def test_terms_as_the_plant_speaks_them(self):
        translations = {entry.msgid: entry.msgstr for entry in polib.pofile(os.path.join(I18N_DIR, "id.po"))}
        wrong = {
            msgid: (translations.get(msgid), expected)
            for msgid, expected in TERMS.items()
            if translations.get(msgid) != expected
        }
        self.assertEqual(wrong, {}, "msgid: (id.po, expected)")

    def test_loaded_terms_keep_actions_and_states_apart(self):
        memory_map = self.env_id["scada.memory.map"].fields_get(["scale", "word_order", "byte_order"])
        self.assertEqual(memory_map["scale"]["string"], "Faktor Skala")
        self.assertIn(("high_first", "Word tinggi dahulu"), memory_map["word_order"]["selection"])
        self.assertIn(("high_first", "Byte tinggi dahulu"), memory_map["byte_order"]["selection"])
        self.assertIn(
            ("error", "Kesalahan"), self.env_id["scada.plc"].fields_get(["state"])["state"]["selection"]
        )
        self.assertIn(
            ("cancelled", "Dibatalkan"),
            self.env_id["mo.history"].fields_get(["status"])["status"]["selection"],
        )
        arch = self.env_id["mo.batch"].fields_view_get(view_type="form")["arch"]
        self.assertIn('string="Batalkan"', arch)
        report = self.env_id["scada.consumption.report"].fields_get(["planned_kg", "actual_kg"])
        self.assertEqual(report["planned_kg"]["string"], "Rencana (kg)")
        self.assertEqual(
            self.env_id.ref("scada_plc_bridge.scada_consumption_report_action").name, "Pemakaian"
        )

    def test_every_string_of_the_addon_is_translated(self):
        buffer = io.BytesIO()
        trans_export(False, ["scada_plc_bridge"], buffer, "po", self.env.cr)
        exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode()) if entry.msgid}
        translations = polib.pofile(os.path.join(I18N_DIR, "id.po"))
        translated = {entry.msgid for entry in translations if entry.msgstr}
        self.assertEqual(exported - translated, set(), "strings missing from i18n/id.po")
        self.assertFalse([entry.msgid for entry in translations if not entry.msgstr])
        template = {entry.msgid for entry in polib.pofile(os.path.join(I18N_DIR, "scada_plc_bridge.pot"))}
        self.assertEqual(exported - template, set(), "i18n/scada_plc_bridge.pot is out of date")
