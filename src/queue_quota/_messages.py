"""Message catalogues of `queue_quota.i18n`: plain dictionaries, one per language.

Keys are error codes (``"quota_exhausted"``, ...) or the names of the phrases the command
line prints. Values are ``str.format`` templates with named fields. Every language has
exactly the same keys (a test checks it). No ``gettext``, no compiled catalogues, no
dependence on the operating system's locale.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CATALOGUES", "DAY_NAMES", "LANGUAGES", "MONTH_NAMES"]

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
    "invalid_transition.same_day": "Pendaftaran ini sudah untuk {day}.",
    "invalid_ticket": "Tiket tidak valid. Periksa kembali kode tiket Anda.",
    "configuration_error": "Konfigurasi atau masukan tidak valid: {message}",
    "unknown_channel": "Jenis layanan tidak dikenal: {message}",
    "storage_error": ("Sistem antrean sedang mengalami gangguan. Silakan coba beberapa saat lagi."),
    # -- closure reasons and channels ---------------------------------------------------
    "reason.weekend": "akhir pekan",
    "reason.no capacity": "tidak ada kuota",
    "channel.online": "pendaftaran online",
    "channel.walk_in": "walk-in",
    # -- the ticket ---------------------------------------------------------------------
    "ticket.label": "Nomor antrean",
    "ticket.channel": "Layanan",
    "ticket.day": "Hari layanan",
    "ticket.ticket": "Tiket",
    "ticket.status": "Status",
    "ticket.id": "ID pendaftaran",
    "status.booked": "terdaftar",
    "status.checked_in": "sudah check-in",
    "status.cancelled": "dibatalkan",
    "status.no_show": "tidak hadir",
    # -- command line -------------------------------------------------------------------
    "cli.cancelled": "Pendaftaran {label} untuk {day} dibatalkan.",
    "cli.checked_in": "Check-in berhasil: {label}, {day}.",
    "cli.closed": "Kantor ditutup pada {day} ({reason}).",
    "cli.closed.none": "Tidak ada pendaftaran yang perlu dipindahkan.",
    "cli.closed.moved": "{count} pendaftaran dipindahkan. Beri tahu pemegang tiket berikut:",
    "cli.calendar.title": "Hari tutup {office}, {month}",
    "cli.calendar.none": "Tidak ada hari tutup.",
    "cli.calendar.openings": "Dibuka khusus: {days}",
    "cli.availability.title": "Ketersediaan {channel}, {office}",
    "cli.manifest.title": "Daftar antrean {office}, {day}",
    "cli.manifest.none": "Tidak ada pendaftaran.",
    "col.date": "Tanggal",
    "col.reason": "Keterangan",
    "col.capacity": "Kuota",
    "col.booked": "Terisi",
    "col.remaining": "Sisa",
    "col.label": "Nomor",
    "col.channel": "Layanan",
    "col.status": "Status",
    "col.id": "ID",
    "col.old_label": "Nomor lama",
    "col.new_label": "Nomor baru",
    "col.new_day": "Hari baru",
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
        "You already hold {limit} active queue number(s) for {channel}. "
        "Cancel it first if you want to book again."
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
    "invalid_transition.same_day": "This booking is already for {day}.",
    "invalid_ticket": "This ticket is not valid. Please check the ticket code.",
    "configuration_error": "Invalid configuration or input: {message}",
    "unknown_channel": "Unknown service: {message}",
    "storage_error": "The queue system is having trouble. Please try again in a moment.",
    "reason.weekend": "weekend",
    "reason.no capacity": "no places",
    "channel.online": "online registration",
    "channel.walk_in": "walk-in",
    "ticket.label": "Queue number",
    "ticket.channel": "Service",
    "ticket.day": "Served on",
    "ticket.ticket": "Ticket",
    "ticket.status": "Status",
    "ticket.id": "Booking ID",
    "status.booked": "booked",
    "status.checked_in": "checked in",
    "status.cancelled": "cancelled",
    "status.no_show": "no show",
    "cli.cancelled": "Booking {label} for {day} is cancelled.",
    "cli.checked_in": "Checked in: {label}, {day}.",
    "cli.closed": "The office is closed on {day} ({reason}).",
    "cli.closed.none": "No booking had to be moved.",
    "cli.closed.moved": "{count} booking(s) moved. Notify these ticket holders:",
    "cli.calendar.title": "Closed days of {office}, {month}",
    "cli.calendar.none": "No closed day.",
    "cli.calendar.openings": "Special openings: {days}",
    "cli.availability.title": "Availability of {channel}, {office}",
    "cli.manifest.title": "Queue of {office}, {day}",
    "cli.manifest.none": "No bookings.",
    "col.date": "Date",
    "col.reason": "Closed because",
    "col.capacity": "Capacity",
    "col.booked": "Booked",
    "col.remaining": "Remaining",
    "col.label": "Number",
    "col.channel": "Service",
    "col.status": "Status",
    "col.id": "ID",
    "col.old_label": "Old number",
    "col.new_label": "New number",
    "col.new_day": "New day",
}

#: language -> key -> template.
CATALOGUES: Final[dict[str, dict[str, str]]] = {"id": _ID, "en": _EN}
