"""Message catalogues of `queue_quota.i18n`: plain dictionaries, one per language.

Keys are error codes (``"quota_exhausted"``, ...), message keys that errors carry in
``details["message_key"]`` (``"configuration_error.past_day"``, ...), or the names of the
phrases the command line prints. Values are ``str.format`` templates with named fields.
Every language has exactly the same keys (a test checks it). No ``gettext``, no compiled
catalogues, no dependence on the operating system's locale.

**Plurals.** A count field may carry both forms after a colon, ``#`` standing for the
number: ``"{count:# booking|# bookings} moved"`` gives ``"1 booking moved"`` and
``"3 bookings moved"``; without ``#`` only the word is written (``"{limit:it|them}"``).
The values are `Template` strings, whose ``format`` understands this, so
``CATALOGUES[lang][key].format(count=3)`` works as usual.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any, Final

__all__ = [
    "CATALOGUES",
    "DAY_NAMES",
    "LANGUAGES",
    "MONTH_NAMES",
    "Template",
    "template_fields",
]


class _Formatter(string.Formatter):
    """``str.format`` with plural forms: ``{n:# place|# places}``."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec and isinstance(value, int) and not isinstance(value, bool):
            one, _, other = format_spec.partition("|")
            return (one if value == 1 else other).replace("#", str(value))
        result: str = super().format_field(value, format_spec)
        return result


_FORMATTER: Final = _Formatter()


class Template(str):
    """A catalogue entry: a ``str`` whose ``format`` also chooses plural forms."""

    __slots__ = ()

    def format(self, *args: object, **kwargs: object) -> str:
        return _FORMATTER.vformat(str(self), args, kwargs)

    def format_map(self, mapping: Any) -> str:
        return _FORMATTER.vformat(str(self), (), mapping)


def template_fields(template: str) -> Sequence[tuple[str, str]]:
    """The named fields of a template, with their format specs, in order."""
    return [(name, spec or "") for _, name, spec, _ in _FORMATTER.parse(template) if name]


#: The languages with a catalogue, the first being the default.
LANGUAGES: Final = ("id", "en")

#: Monday first.
DAY_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

#: January first.
MONTH_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

_ID: Final[dict[str, str]] = {
    # -- errors, by code ---------------------------------------------------------------
    "queue_quota_error": "Permintaan tidak dapat diproses.",
    "refused": "Permintaan Anda tidak dapat diterima.",
    "quota_exhausted.today": "Kuota hari ini sudah penuh.",
    "quota_exhausted.day": "Kuota {channel} untuk {day} sudah penuh.",
    "quota_exhausted.window": "Kuota {channel} sudah penuh untuk seluruh periode pendaftaran.",
    "quota_exhausted.come_back": "datang kembali pada {day}",
    "quota_exhausted.other_day": "memilih {day}",
    "quota_exhausted.none": "Belum ada hari lain yang masih tersedia.",
    "suggest": "Silakan {options}.",
    "or": "atau",
    "alternative.online": "daftar online untuk {day}",
    "alternative.walk_in": "datang langsung (tanpa daftar) pada {day}",
    "alternative.other": "gunakan layanan {channel} untuk {day}",
    "day_closed": "Kantor tutup pada {day} ({reason}).",
    "day_closed.no_reason": "Kantor tutup pada {day}.",
    "day_closed.no_day": "Kantor sedang tutup.",
    "day_closed.next": "Silakan datang pada {day}.",
    "outside_service_hours": "Nomor antrean {channel} hanya diberikan pukul {opens}–{closes}.",
    "outside_service_hours.today": "Silakan datang kembali hari ini mulai pukul {opens}.",
    "outside_service_hours.next": "Silakan datang kembali pada {day} mulai pukul {opens}.",
    "outside_booking_window": "{day} berada di luar periode pendaftaran.",
    "outside_booking_window.no_day": "Tanggal yang dipilih berada di luar periode pendaftaran.",
    "outside_booking_window.range": "Pilih tanggal antara {earliest} dan {latest}.",
    "already_booked": (
        "Anda sudah memiliki {limit} nomor antrean aktif untuk {channel}. "
        "Batalkan nomor tersebut jika ingin mendaftar ulang."
    ),
    "not_eligible": (
        "Layanan {channel} khusus untuk warga yang memenuhi syarat. Silakan gunakan layanan lain."
    ),
    "already_booked.office": (
        "Anda sudah memiliki {limit} nomor antrean aktif di kantor ini. "
        "Batalkan salah satunya jika ingin mendaftar lagi."
    ),
    "suspended": (
        "Pendaftaran online Anda ditangguhkan karena Anda tidak hadir pada hari layanan yang "
        "telah dijadwalkan. Anda dapat mendaftar online lagi mulai {until}."
    ),
    "suspended.no_day": (
        "Pendaftaran online Anda ditangguhkan karena Anda tidak hadir pada hari layanan yang "
        "telah dijadwalkan."
    ),
    "suspended.walk_in": "Anda tetap dapat datang langsung tanpa mendaftar.",
    "configuration_error.too_many_places": (
        "Pendaftaran {channel} paling banyak untuk {limit} orang sekaligus (diminta {places})."
    ),
    "configuration_error.places": "Jumlah orang harus bilangan bulat 1 sampai {max_places}.",
    "configuration_error.preferred_time": (
        "Jam yang dipilih harus berupa jam setempat tanpa zona waktu."
    ),
    "configuration_error.no_session": "Tidak ada sesi {channel} yang dimulai pukul {start}.",
    "idempotency_conflict": (
        "Kode permintaan ini sudah dipakai untuk permintaan lain. Tidak ada nomor antrean "
        "yang dibuat; kirim permintaan baru dengan kode baru."
    ),
    "booking_not_found": "Pendaftaran tidak ditemukan. Periksa kembali nomor tiket Anda.",
    "invalid_transition": (
        "Pendaftaran ini tidak dapat diproses: mungkin sudah dibatalkan, sudah check-in, "
        "atau bukan untuk hari ini."
    ),
    "invalid_transition.cancelled": "Pendaftaran ini sudah dibatalkan.",
    "invalid_transition.checked_in": "Pendaftaran ini sudah check-in.",
    "invalid_transition.no_show": "Pendaftaran ini sudah tercatat tidak hadir.",
    "invalid_transition.not_today": "Tiket ini untuk {day}, bukan untuk hari ini.",
    "invalid_transition.past_day": "Tanggal layanan pendaftaran ini ({day}) sudah lewat.",
    "invalid_transition.has_room": "Masih ada tempat pada {day}: silakan langsung mendaftar.",
    "invalid_transition.same_day": "Pendaftaran ini sudah untuk {day}.",
    "invalid_ticket": "Tiket tidak valid. Periksa kembali kode tiket Anda.",
    "configuration_error": (
        "Konfigurasi atau masukan tidak valid (rincian teknis hanya tersedia dalam bahasa Inggris)."
    ),
    "configuration_error.file": (
        "Konfigurasi tidak valid: {source}: {key}: nilai ini tidak dapat dipakai (rincian "
        "teknis hanya tersedia dalam bahasa Inggris)."
    ),
    "configuration_error.file_only": (
        "Konfigurasi tidak valid: {source}: berkas ini tidak dapat dipakai (rincian teknis "
        "hanya tersedia dalam bahasa Inggris)."
    ),
    "configuration_error.language": (
        "Bahasa {lang} tidak tersedia; pilih salah satu dari: {languages}."
    ),
    "configuration_error.not_a_date": "Diperlukan sebuah tanggal.",
    "configuration_error.month": "Bulan harus 1 sampai 12, bukan {month}.",
    "configuration_error.past_day": (
        "Hari yang sudah lewat tidak dapat ditutup ({day}; hari ini {today})."
    ),
    "configuration_error.no_events": (
        "Penyimpanan {storage} tidak mencatat peristiwa; gunakan penyimpanan yang dibangun di "
        "atas TransactionalStorage."
    ),
    "configuration_error.no_sanctions": (
        "Penyimpanan {storage} tidak mendukung penangguhan karena tidak hadir; gunakan "
        "penyimpanan yang dibangun di atas TransactionalStorage."
    ),
    "configuration_error.event_cursor": "Posisi peristiwa harus bilangan bulat 0 atau lebih.",
    "configuration_error.consumer": (
        "Nama penerima notifikasi harus 1 sampai 64 karakter tanpa titik dua."
    ),
    "configuration_error.event_limit": (
        "Jumlah peristiwa yang dibaca harus 1 sampai {max_events}."
    ),
    "configuration_error.no_waitlist": (
        "Penyimpanan {storage} tidak menyimpan daftar tunggu; gunakan penyimpanan yang "
        "dibangun di atas TransactionalStorage."
    ),
    "configuration_error.past_until": (
        "Batas daftar tunggu ({day}) sudah lewat (hari ini {today})."
    ),
    "configuration_error.past_reopen": (
        "Hari yang sudah lewat tidak dapat dibuka kembali ({day}; hari ini {today})."
    ),
    "configuration_error.day_not_ended": (
        "{day} belum berakhir: ketidakhadiran belum dapat dicatat (hari ini {today})."
    ),
    "configuration_error.date_range": (
        "Rentang tanggal tidak valid ({start} sampai {end}): tanggal akhir tidak boleh "
        "sebelum tanggal awal, dan rentangnya paling lama {max_days} hari."
    ),
    "configuration_error.needs_citizen": "Layanan {channel} memerlukan NIK warga.",
    "configuration_error.naive_now": "Waktu harus disertai zona waktu.",
    "configuration_error.closure_reason": "Penutupan hari memerlukan alasan.",
    "configuration_error.today_only": "{channel} hanya melayani hari ini.",
    "configuration_error.needs_secret": (
        "Penyimpanan permanen memerlukan kunci rahasia (minimal {min_bytes} bita): tiket "
        "dan catatan warga harus tetap sah setelah aplikasi dijalankan ulang."
    ),
    "configuration_error.short_secret": "Kunci rahasia harus minimal {min_bytes} bita.",
    "configuration_error.idempotency_key": (
        "Kode permintaan harus berupa teks sepanjang 1 sampai {max_length} karakter."
    ),
    "configuration_error.demand_count": (
        "Perkiraan permintaan: {field} harus berupa rata-rata jumlah orang setiap hari (0 "
        "atau lebih) atau daftar bilangan bulat 0 atau lebih, satu untuk setiap hari simulasi."
    ),
    "configuration_error.demand_rate": (
        "Perkiraan permintaan: {field} harus berupa bagian dari 0 sampai 1."
    ),
    "configuration_error.demand_hours": (
        "Perkiraan permintaan: {field} harus berupa dua jam setempat tanpa zona waktu, yang "
        "pertama lebih awal."
    ),
    "configuration_error.demand_claims": (
        "Perkiraan permintaan: {field} harus memetakan nama klaim ke teks yang tidak kosong."
    ),
    "configuration_error.demand_flag": (
        "Perkiraan permintaan: {field} harus bernilai benar atau salah."
    ),
    "configuration_error.demand_channel": (
        "Perkiraan permintaan: {field} harus kosong atau berupa nama layanan."
    ),
    "configuration_error.simulate_channel": (
        "Simulasi: kantor ini tidak memiliki layanan {channel} yang sesuai."
    ),
    "configuration_error.simulate_input": "Simulasi: nilai {field} tidak dapat dipakai.",
    "configuration_error.places_never_fit": (
        "{places} orang dalam satu nomor melebihi kapasitas satu hari {channel} ({limit})."
    ),
    "configuration_error.simulate_capacity": (
        "Kapasitas layanan {channel} tidak dapat diubah-ubah dalam simulasi ini."
    ),
    "configuration_error.simulate_days": (
        "Simulasi: jumlah hari harus bilangan bulat 1 sampai {max_days}."
    ),
    "configuration_error.charts_extra": (
        "Grafik memerlukan paket tambahan {extra}; pasang dengan: {command}"
    ),
    "unknown_channel": (
        "Layanan {channel} tidak dikenal.{did_you_mean} Layanan yang tersedia: {channels}."
    ),
    "unknown_channel.plain": "Jenis layanan tidak dikenal.",
    "did_you_mean": " Maksud Anda {suggestion}?",
    "secret_mismatch": (
        "Kunci rahasia tidak cocok dengan kunci yang dipakai untuk membuat basis data ini: "
        "tiket dan catatan warga tidak akan dikenali. Gunakan kunci rahasia yang benar (lihat "
        "panduan penggantian kunci)."
    ),
    # -- office files -------------------------------------------------------------------
    "office_file.no_such_file": "Berkas kantor {source} tidak ditemukan.",
    "office_file.unreadable": "Berkas kantor {source} tidak dapat dibaca.",
    "office_file.not_utf8": "Berkas kantor {source} bukan teks UTF-8.",
    "office_file.invalid_toml": (
        "Berkas kantor {source} bukan TOML yang valid (baris {line}, kolom {column})."
    ),
    "office_file.unknown_key": (
        "Konfigurasi tidak valid: {source}: {key}: kunci tidak dikenal.{did_you_mean} "
        "Kunci yang dikenal: {allowed}."
    ),
    "office_file.missing_key": "Konfigurasi tidak valid: {source}: {key}: kunci ini wajib ada.",
    "office_file.integer": (
        "Konfigurasi tidak valid: {source}: {key}: harus bilangan bulat {minimum} atau lebih, "
        "bukan {got}."
    ),
    "office_file.table": "Konfigurasi tidak valid: {source}: {key}: harus berupa tabel.",
    "office_file.unknown_type": (
        "Konfigurasi tidak valid: {source}: {key}: jenis kebijakan {got} tidak dikenal."
        "{did_you_mean} Jenis yang dikenal: {allowed}."
    ),
    "office_file.duplicate": (
        "Konfigurasi tidak valid: {source}: {key}: {got} sudah dipakai oleh {other}."
    ),
    "office_file.title": (
        "Konfigurasi tidak valid: {source}: {key}: nama layanan harus berupa teks yang tidak "
        "kosong atau tabel bahasa ({example}), bukan {got}."
    ),
    "office_file.title_language": (
        "Konfigurasi tidak valid: {source}: {key}: bahasa tidak dikenal.{did_you_mean} "
        "Bahasa yang dikenal: {allowed}."
    ),
    "office_file.unknown_channel": (
        "Konfigurasi tidak valid: {source}: {key}: layanan {got} tidak dikenal.{did_you_mean} "
        "Layanan kantor ini: {allowed}."
    ),
    "office_file.session_end": (
        "Konfigurasi tidak valid: {source}: {key}: sesi harus selesai setelah mulai "
        "({start}), bukan pukul {end}."
    ),
    "office_file.session_overlap": (
        "Konfigurasi tidak valid: {source}: {key}: sesi {start}–{end} bertumpang tindih "
        "dengan sesi {other_start}–{other_end}."
    ),
    "office_file.session_hours": (
        "Konfigurasi tidak valid: {source}: {key}: sesi {start}–{end} di luar jam buka "
        "{opens}–{closes}."
    ),
    "office_file.session_too_large": (
        "Konfigurasi tidak valid: {source}: {key}: sesi paling banyak {limit} orang "
        "(kuota harinya), bukan {places}."
    ),
    "office_file.takes_unused_self": (
        "Konfigurasi tidak valid: {source}: {key}: harus layanan lain, bukan layanan "
        "walk-in ini sendiri."
    ),
    "storage_error": ("Sistem antrean sedang mengalami gangguan. Silakan coba beberapa saat lagi."),
    # -- closure reasons and channels ---------------------------------------------------
    "reason.weekend": "akhir pekan",
    "reason.no capacity": "tidak ada kuota",
    "channel.online": "pendaftaran online",
    "channel.walk_in": "walk-in",
    # -- the ticket ---------------------------------------------------------------------
    "notify.booked": "Nomor antrean {label} Anda: {day}{window}",
    "notify.moved": (
        "Jadwal Anda dipindah: nomor antrean {label}, {day}{window} (sebelumnya "
        "{previous_label}, {previous_day})"
    ),
    "notify.cancelled": "Pendaftaran dengan nomor antrean {label} untuk {day} dibatalkan",
    "notify.checked_in": "Nomor antrean {label} telah hadir: {day}",
    "notify.no_show": "Nomor antrean {label} tidak hadir pada {day}",
    "notify.waitlisted": "Anda masuk daftar tunggu, urutan ke-{position}, sampai {until}",
    "notify.promoted": (
        "Anda mendapat tempat dari daftar tunggu: nomor antrean {label}, {day}{window}"
    ),
    "notify.waitlist_left": "Anda keluar dari daftar tunggu",
    "notify.waitlist_expired": "Daftar tunggu Anda berakhir pada {until} tanpa tempat kosong",
    "notify.reminder": "Pengingat, nomor antrean {label} Anda: {day}{window}",
    "notify.day_closed": "Layanan tutup pada {day}: {reason}",
    "notify.day_reopened": "Layanan dibuka kembali pada {day}",
    "notify.suspension_lifted": "Penangguhan pendaftaran online seorang warga dicabut pada {day}",
    "notify.turned_away": "Kuota walk-in {day} penuh: seorang warga tidak mendapat nomor antrean",
    "ticket.label": "Nomor antrean",
    "ticket.channel": "Layanan",
    "ticket.day": "Hari layanan",
    "ticket.window": "Jam datang",
    "ticket.places": "Jumlah orang",
    "ticket.ticket": "Tiket",
    "ticket.status": "Status",
    "ticket.id": "ID pendaftaran",
    "status.booked": "terdaftar",
    "status.checked_in": "sudah check-in",
    "status.cancelled": "dibatalkan",
    "status.no_show": "tidak hadir",
    # -- charts (queue_quota.charts) ----------------------------------------------------
    "chart.simulation": "{office}: simulasi {count} hari mulai {start}",
    "chart.comparison": "{a} dan {b}: warga yang sama, {count} hari mulai {start}",
    "chart.report": "{office}: laporan {start} sampai {end}",
    "chart.office": "Kantor {name}",
    "chart.series": "{series} ({office})",
    "chart.date": "Tanggal",
    "chart.people": "Jumlah orang",
    "chart.working_days": "Hari kerja",
    "chart.closed": "Kantor tutup",
    "chart.demand.title": "Kuota online dan pendaftar online setiap hari",
    "chart.online_arrivals": "Pendaftar online baru",
    "chart.online_retries": "Mencoba lagi",
    "chart.online_capacity": "Kuota online",
    "chart.online_booked": "Terisi untuk hari itu",
    "chart.surge": "Hari pertama: {count} pendaftar",
    "chart.wait.title": "Waktu tunggu dalam hari kerja, menurut hari mendaftar",
    "chart.wait_mean": "Rata-rata",
    "chart.wait_max": "Terlama",
    "chart.quoted_wait": "Tunggu bagi pendaftar baru",
    "chart.walk_in.title": "Walk-in setiap hari: mendapat nomor dan ditolak",
    "chart.walk_ins_served": "Mendapat nomor",
    "chart.walk_ins_turned_away": "Ditolak",
    "chart.no_walk_in": "Kantor ini tidak memiliki layanan walk-in.",
    "chart.turned_away_per_day": "Walk-in yang ditolak setiap hari",
    "chart.capacity.title": "Kuota dan tempat terisi setiap hari, menurut layanan",
    "chart.capacity_of": "Kuota {channel}",
    "chart.booked_of": "Terisi {channel}",
    "chart.no_shows.title": "Tidak hadir setiap hari",
    "chart.turned_away.title": "Walk-in ditolak karena kuota hari itu penuh",
    # -- command line -------------------------------------------------------------------
    "cli.closed.moved": "{count} pendaftaran dipindahkan. Beri tahu pemegang tiket berikut:",
}

_EN: Final[dict[str, str]] = {
    "queue_quota_error": "The request could not be processed.",
    "refused": "Your request cannot be accepted.",
    "quota_exhausted.today": "Today's quota is full.",
    "quota_exhausted.day": "The {channel} quota for {day} is full.",
    "quota_exhausted.window": "The {channel} quota is full for the whole booking period.",
    "quota_exhausted.come_back": "come back on {day}",
    "quota_exhausted.other_day": "choose {day}",
    "quota_exhausted.none": "No other day is available yet.",
    "suggest": "Please {options}.",
    "or": "or",
    "alternative.online": "register online for {day}",
    "alternative.walk_in": "come to the office without registering on {day}",
    "alternative.other": "use the {channel} service for {day}",
    "day_closed": "The office is closed on {day} ({reason}).",
    "day_closed.no_reason": "The office is closed on {day}.",
    "day_closed.no_day": "The office is closed.",
    "day_closed.next": "Please come on {day}.",
    "outside_service_hours": "{channel} numbers are only given from {opens} to {closes}.",
    "outside_service_hours.today": "Please come back today from {opens}.",
    "outside_service_hours.next": "Please come back on {day} from {opens}.",
    "outside_booking_window": "{day} is outside the booking period.",
    "outside_booking_window.no_day": "The chosen day is outside the booking period.",
    "outside_booking_window.range": "Please choose a day between {earliest} and {latest}.",
    "already_booked": (
        "You already hold {limit:# active queue number|# active queue numbers} for {channel}. "
        "Cancel {limit:it|one} first if you want to book again."
    ),
    "not_eligible": (
        "The {channel} service is only for eligible citizens. Please use another service."
    ),
    "already_booked.office": (
        "You already hold {limit:# active queue number|# active queue numbers} at this "
        "office. Cancel {limit:it|one} first if you want to book again."
    ),
    "suspended": (
        "Your online registrations are suspended because you did not come on the day of your "
        "booking. You can register online again from {until}."
    ),
    "suspended.no_day": (
        "Your online registrations are suspended because you did not come on the day of your "
        "booking."
    ),
    "suspended.walk_in": "You can still come to the office without registering.",
    "configuration_error.too_many_places": (
        "At most {limit:# person|# people} per booking on {channel} ({places} asked for)."
    ),
    "configuration_error.places": (
        "The number of places must be a whole number from 1 to {max_places}."
    ),
    "configuration_error.preferred_time": (
        "The preferred time must be a local time without a time zone."
    ),
    "configuration_error.no_session": "No {channel} session starts at {start}.",
    "idempotency_conflict": (
        "This request's key was already used for a different request. No queue number was "
        "given; send the new request with a new key."
    ),
    "booking_not_found": "No such booking. Please check your ticket number.",
    "invalid_transition": (
        "This booking cannot be processed: it may be cancelled, already checked in, "
        "or not for today."
    ),
    "invalid_transition.cancelled": "This booking has been cancelled.",
    "invalid_transition.checked_in": "This booking has already been checked in.",
    "invalid_transition.no_show": "This booking was recorded as a no-show.",
    "invalid_transition.not_today": "This ticket is for {day}, not for today.",
    "invalid_transition.past_day": "The day of this booking ({day}) has passed.",
    "invalid_transition.has_room": "There is room on {day}: book it instead.",
    "invalid_transition.same_day": "This booking is already for {day}.",
    "invalid_ticket": "This ticket is not valid. Please check the ticket code.",
    "configuration_error": "Invalid configuration or input: {message}",
    "configuration_error.file": "Invalid configuration or input: {message}",
    "configuration_error.file_only": "Invalid configuration or input: {message}",
    "configuration_error.language": (
        "No messages in the language {lang}; choose one of: {languages}."
    ),
    "configuration_error.not_a_date": "A date is needed here.",
    "configuration_error.month": "The month must be 1 to 12, not {month}.",
    "configuration_error.past_day": "A past day cannot be closed ({day}; today is {today}).",
    "configuration_error.no_events": (
        "The storage {storage} writes no events; use a storage built on TransactionalStorage."
    ),
    "configuration_error.no_sanctions": (
        "The storage {storage} keeps no no-show suspensions; use a storage built on "
        "TransactionalStorage."
    ),
    "configuration_error.event_cursor": "The event cursor must be a whole number, 0 or more.",
    "configuration_error.consumer": "A consumer name has 1 to 64 characters and no colon.",
    "configuration_error.event_limit": "The number of events read must be 1 to {max_events}.",
    "configuration_error.no_waitlist": (
        "The storage {storage} keeps no waitlist; use a storage built on TransactionalStorage."
    ),
    "configuration_error.past_until": (
        "The waitlist's last day ({day}) has passed (today is {today})."
    ),
    "configuration_error.past_reopen": ("A past day cannot be reopened ({day}; today is {today})."),
    "configuration_error.day_not_ended": (
        "{day} has not ended: its no-shows cannot be marked yet (today is {today})."
    ),
    "configuration_error.date_range": (
        "Invalid range of dates ({start} to {end}): the end may not be before the start, "
        "and the range spans at most {max_days:# day|# days}."
    ),
    "configuration_error.needs_citizen": "The {channel} service needs the citizen's ID number.",
    "configuration_error.naive_now": "The time must include a time zone.",
    "configuration_error.closure_reason": "A closure needs a reason.",
    "configuration_error.today_only": "{channel} serves today only.",
    "configuration_error.needs_secret": (
        "A persistent storage needs a secret (at least {min_bytes:# byte|# bytes}): tickets "
        "and citizen records must stay valid across restarts."
    ),
    "configuration_error.short_secret": (
        "The secret must be at least {min_bytes:# byte|# bytes} long."
    ),
    "configuration_error.idempotency_key": (
        "A request key must be a text of 1 to {max_length:# character|# characters}."
    ),
    "configuration_error.demand_count": (
        "Demand model: {field} must be a mean number of people a day (0 or more) or a list "
        "of whole numbers, 0 or more, one for each simulated day."
    ),
    "configuration_error.demand_rate": "Demand model: {field} must be a share from 0 to 1.",
    "configuration_error.demand_hours": (
        "Demand model: {field} must be two local times without a time zone, the first earlier."
    ),
    "configuration_error.demand_claims": (
        "Demand model: {field} must map claim names to non-empty texts."
    ),
    "configuration_error.demand_flag": "Demand model: {field} must be True or False.",
    "configuration_error.demand_channel": (
        "Demand model: {field} must be empty or the name of a service."
    ),
    "configuration_error.simulate_channel": (
        "Simulation: the office has no suitable {channel} service."
    ),
    "configuration_error.simulate_input": "Simulation: the value of {field} cannot be used.",
    "configuration_error.places_never_fit": (
        "{places} people on one number exceed what one day of {channel} gives ({limit})."
    ),
    "configuration_error.simulate_capacity": (
        "The capacity of {channel} cannot be varied by this simulation."
    ),
    "configuration_error.simulate_days": (
        "Simulation: the number of days must be a whole number from 1 to {max_days}."
    ),
    "configuration_error.charts_extra": "Charts need the {extra} extra; install it with: {command}",
    "unknown_channel": "Unknown service {channel}.{did_you_mean} Services: {channels}.",
    "unknown_channel.plain": "Unknown service: {message}",
    "did_you_mean": " Did you mean {suggestion}?",
    "secret_mismatch": (
        "The secret does not match the one this database was made with: tickets and "
        "citizens would not be recognised. Use the right secret (see how to rotate a secret)."
    ),
    "office_file.no_such_file": "Invalid configuration or input: {message}",
    "office_file.unreadable": "Invalid configuration or input: {message}",
    "office_file.not_utf8": "Invalid configuration or input: {message}",
    "office_file.invalid_toml": "Invalid configuration or input: {message}",
    "office_file.unknown_key": "Invalid configuration or input: {message}",
    "office_file.missing_key": "Invalid configuration or input: {message}",
    "office_file.integer": "Invalid configuration or input: {message}",
    "office_file.table": "Invalid configuration or input: {message}",
    "office_file.unknown_channel": "Invalid configuration or input: {message}",
    "office_file.session_end": "Invalid configuration or input: {message}",
    "office_file.session_overlap": "Invalid configuration or input: {message}",
    "office_file.session_hours": "Invalid configuration or input: {message}",
    "office_file.session_too_large": "Invalid configuration or input: {message}",
    "office_file.takes_unused_self": "Invalid configuration or input: {message}",
    "office_file.unknown_type": "Invalid configuration or input: {message}",
    "office_file.duplicate": "Invalid configuration or input: {message}",
    "office_file.title": "Invalid configuration or input: {message}",
    "office_file.title_language": "Invalid configuration or input: {message}",
    "storage_error": "The queue system is having trouble. Please try again in a moment.",
    "reason.weekend": "weekend",
    "reason.no capacity": "no places",
    "channel.online": "online registration",
    "channel.walk_in": "walk-in",
    "notify.booked": "Your queue number {label}: {day}{window}",
    "notify.moved": (
        "Your booking was moved: queue number {label}, {day}{window} (was {previous_label}, "
        "{previous_day})"
    ),
    "notify.cancelled": "The booking with queue number {label} for {day} is cancelled",
    "notify.checked_in": "Queue number {label} has arrived: {day}",
    "notify.no_show": "Queue number {label} did not come on {day}",
    "notify.waitlisted": "You are on the waiting list, number {position}, until {until}",
    "notify.promoted": (
        "You have a place from the waiting list: queue number {label}, {day}{window}"
    ),
    "notify.waitlist_left": "You have left the waiting list",
    "notify.waitlist_expired": "Your waiting list entry ended on {until} without a free place",
    "notify.reminder": "Reminder, your queue number {label}: {day}{window}",
    "notify.day_closed": "The office is closed on {day}: {reason}",
    "notify.day_reopened": "The office is open again on {day}",
    "notify.suspension_lifted": (
        "A citizen's suspension from online registration was lifted on {day}"
    ),
    "notify.turned_away": "The walk-in quota of {day} is full: a citizen was turned away",
    "ticket.label": "Queue number",
    "ticket.channel": "Service",
    "ticket.window": "Arrive between",
    "ticket.places": "People",
    "ticket.day": "Served on",
    "ticket.ticket": "Ticket",
    "ticket.status": "Status",
    "ticket.id": "Booking ID",
    "status.booked": "booked",
    "status.checked_in": "checked in",
    "status.cancelled": "cancelled",
    "status.no_show": "no show",
    "chart.simulation": "{office}: simulation of {count:# day|# days} from {start}",
    "chart.comparison": "{a} and {b}: the same citizens, {count:# day|# days} from {start}",
    "chart.report": "{office}: report from {start} to {end}",
    "chart.office": "Office {name}",
    "chart.series": "{series} ({office})",
    "chart.date": "Date",
    "chart.people": "People",
    "chart.working_days": "Working days",
    "chart.closed": "Office closed",
    "chart.demand.title": "Online places and online registrations per day",
    "chart.online_arrivals": "New online registrations",
    "chart.online_retries": "Trying again",
    "chart.online_capacity": "Online places",
    "chart.online_booked": "Booked for the day",
    "chart.surge": "First day: {count:# registration|# registrations}",
    "chart.wait.title": "Wait in working days, by day of registration",
    "chart.wait_mean": "Mean",
    "chart.wait_max": "Longest",
    "chart.quoted_wait": "Wait quoted to a new registrant",
    "chart.walk_in.title": "Walk-ins per day: given a number and turned away",
    "chart.walk_ins_served": "Given a number",
    "chart.walk_ins_turned_away": "Turned away",
    "chart.no_walk_in": "This office has no walk-in service.",
    "chart.turned_away_per_day": "Walk-ins turned away per day",
    "chart.capacity.title": "Capacity and places booked per day, by service",
    "chart.capacity_of": "Capacity, {channel}",
    "chart.booked_of": "Booked, {channel}",
    "chart.no_shows.title": "No-shows per day",
    "chart.turned_away.title": "Walk-ins turned away because the day was full",
    "cli.closed.moved": (
        "{count:# booking|# bookings} moved. Notify {count:this ticket holder|these ticket "
        "holders}:"
    ),
}

#: language -> key -> template.
CATALOGUES: Final[dict[str, dict[str, str]]] = {
    lang: {key: Template(text) for key, text in catalogue.items()}
    for lang, catalogue in (("id", _ID), ("en", _EN))
}
