"""The command line's own phrases, in Indonesian and English, and its own typed error.

Citizen-facing refusals come from `queue_quota.i18n`; everything the command line itself
says (titles, column headers, its configuration errors) is here, so that one run speaks one
language from the first line to the last. Both languages have exactly the same keys (a test
checks it).
"""

from __future__ import annotations

from typing import Any, Final

from ..errors import ConfigurationError

__all__ = ["CATALOGUE", "CliError", "render"]

_ID: Final[dict[str, str]] = {
    # -- the ticket ---------------------------------------------------------------------
    "ticket.label": "Nomor antrean",
    "ticket.channel": "Layanan",
    "ticket.day": "Hari layanan",
    "ticket.window": "Jam datang",
    "ticket.places": "Jumlah orang",
    "ticket.ticket": "Tiket",
    "ticket.id": "ID pendaftaran",
    "ticket.status": "Status",
    "status.booked": "terdaftar",
    "status.checked_in": "sudah check-in",
    "status.cancelled": "dibatalkan",
    "status.no_show": "tidak hadir",
    # -- results ------------------------------------------------------------------------
    "cancelled": "Pendaftaran {label} untuk {day} dibatalkan.",
    "cancelled.promoted": "Tempatnya diberikan kepada daftar tunggu: {label}, {day}.",
    "checked_in": "Check-in berhasil: {label}, {day}.",
    "moved": "Nomor lama {old_label}, {old_day} -> nomor baru {new_label}, {new_day}.",
    "events.none": "Tidak ada peristiwa baru.",
    "reopened": "Kantor dibuka kembali pada {day}.",
    "reopened.not_closed": "{day} tidak sedang ditutup; tidak ada yang berubah.",
    "suspension_lifted": (
        "Penangguhan dicabut: warga ini dapat mendaftar online lagi mulai hari ini."
    ),
    "reopened.calendar": "Kantor dibuka pada {day}, yang menurut kalender tutup ({reason}).",
    "notified": "{count} notifikasi ditangani.",
    "ticket.waitlist": "Daftar tunggu",
    "ticket.position": "Urutan",
    "ticket.until": "Menunggu sampai",
    "waitlist.title": "Daftar tunggu {channel}, {office}",
    "waitlist.none": "Tidak ada yang sedang menunggu.",
    "waitlist.joined": (
        "Begitu ada tempat kosong, pendaftaran dibuat dengan tiket ini dan nomor antrean "
        "diberikan. Simpan tiketnya."
    ),
    "waitlist.left": "Entri {id} dihapus dari daftar tunggu {channel}.",
    "waitlist.already_booked": (
        "Entri ini sudah mendapat tempat: nomor antrean {label}, {day}. Untuk melepasnya, "
        "batalkan pendaftaran itu: queue-quota cancel {id}"
    ),
    "waitlist.not_found": (
        "Tidak ada entri daftar tunggu dengan tiket atau ID ini. Periksa kembali tiket Anda."
    ),
    "waitlist.any_time": "kapan saja",
    "waitlist.from_time": "mulai {time}",
    "promoted.none": "Tidak ada entri daftar tunggu yang mendapat tempat.",
    "promoted.one": "1 entri daftar tunggu mendapat tempat. Beri tahu pemegang tiket berikut:",
    "promoted.other": (
        "{count} entri daftar tunggu mendapat tempat. Beri tahu pemegang tiket berikut:"
    ),
    "col.position": "Urutan",
    "col.until": "Sampai",
    "col.joined": "Bergabung",
    "col.day": "Hari",
    "col.seq": "No",
    "col.at": "Waktu",
    "col.kind": "Jenis",
    "col.message": "Pesan",
    "err.webhook_secret": (
        "Setel {env} ke kunci rahasia webhook (minimal 16 bita); kunci itu tidak pernah "
        "ditulis di baris perintah."
    ),
    "closed": "Kantor ditutup pada {day} ({reason}).",
    "closed.none": "Tidak ada pendaftaran yang perlu dipindahkan.",
    "closed.moved.one": "1 pendaftaran dipindahkan. Beri tahu pemegang tiket berikut:",
    "closed.moved.other": "{count} pendaftaran dipindahkan. Beri tahu pemegang tiket berikut:",
    "no_shows.none": "Tidak ada pendaftaran yang ditandai tidak hadir.",
    "preview.closed": "Pratinjau: jika kantor ditutup pada {day} ({reason}):",
    "preview.moved.one": "1 pendaftaran akan dipindahkan:",
    "preview.moved.other": "{count} pendaftaran akan dipindahkan:",
    "preview.unchanged": (
        "Tidak ada yang diubah (pratinjau): jalankan tanpa --dry-run untuk menutup hari itu."
    ),
    "check.title": "Pemeriksaan {file} terhadap pendaftaran {office} mulai {day}",
    "check.fits": "Semua pendaftaran muat dalam kuota file baru.",
    "check.move.none": (
        "Tidak ada pendaftaran yang dapat dipindahkan (yang melebihi kuota sudah check-in)."
    ),
    "check.move.one": "1 pendaftaran harus dipindahkan (nomor terakhir lebih dulu):",
    "check.move.other": "{count} pendaftaran harus dipindahkan (nomor terakhir lebih dulu):",
    "check.unchanged": "Tidak ada yang diubah.",
    "counter.session": "{channel}, sesi {at}",
    "counter.pool": "kuota bersama {name}",
    "calendar.title": "Hari tutup {office}, {month}",
    "calendar.none": "Tidak ada hari tutup.",
    "calendar.openings": "Dibuka khusus: {days}",
    "availability.title": "Ketersediaan {channel}, {office}",
    "manifest.title": "Daftar antrean {office}, {day}",
    "manifest.none": "Tidak ada pendaftaran.",
    "bookings.none": "Tidak ada pendaftaran aktif untuk NIK ini.",
    "bookings.none_past": "Tidak ada pendaftaran untuk NIK ini.",
    "yes": "ya",
    "no": "tidak",
    "prompt.citizen": "NIK (tidak ditampilkan): ",
    "warning": "peringatan: {message}",
    # -- planning: simulate, report (cli/_cmd_plan.py) ---------------------------------
    "simulate.title": "Simulasi {office}: {days} hari mulai {start} (seed {seed})",
    "capacity.found": (
        "{capacity} tempat {channel} setiap hari: tidak ada yang menunggu lebih dari "
        "{max_wait} hari kerja ({runs} simulasi pada warga yang sama)."
    ),
    "capacity.below": (
        "Dengan {capacity} tempat: terlama {wait} hari kerja, {gave_up} tanpa tempat."
    ),
    "capacity.none": (
        "Tidak ada kapasitas yang membuat semua warga menunggu paling lama {max_wait} hari kerja."
    ),
    "simulate.demand": (
        "Permintaan: {online} pendaftar online setiap hari kerja, {surge} tambahan pada hari "
        "pertama, {walk_in} walk-in setiap pagi; tidak hadir {no_show}, batal {cancel}."
    ),
    "simulate.people": (
        "Pendaftar online: {registrants}; mendapat tempat {given}, menyerah {gave_up}, masih "
        "menunggu {waiting}."
    ),
    "simulate.wait": (
        "Median waktu tunggu {p50} hari kerja, 9 dari 10 paling lama {p90}, terlama {max}; "
        "walk-in ditolak {share}."
    ),
    "simulate.no_wait": "Tidak ada pendaftar online yang mendapat tempat; walk-in ditolak {share}.",
    "simulate.use": (
        "Kuota terpakai: {utilisation}; periode pendaftaran online penuh pada {full} dari "
        "{days} hari kerja."
    ),
    "simulate.full": "penuh",
    "compare.title": (
        "Perbandingan {a} dan {b} dengan warga yang sama: {days} hari mulai {start} (seed {seed})"
    ),
    "compare.difference": "Selisih ({b} - {a})",
    "row.registrants": "Pendaftar online",
    "row.given": "Mendapat tempat",
    "row.gave_up": "Menyerah",
    "row.wait_p50": "Median tunggu (hari kerja)",
    "row.wait_p90": "9 dari 10 paling lama",
    "row.wait_max": "Tunggu terlama",
    "row.walk_in_share": "Walk-in ditolak",
    "row.days_full": "Hari periode penuh",
    "plan.chart": "Grafik disimpan di {path}.",
    "report.title": "Laporan {office}, {start} sampai {end}",
    "report.channel": (
        "{channel}: {held} dari {capacity} tempat terpakai ({utilisation}); tidak hadir "
        "{no_shows} ({no_show_rate})."
    ),
    "report.turned_away": "{channel}: {turned_away} orang ditolak karena kuota penuh ({share}).",
    "report.total": "Jumlah",
    "col.online_demand": "Daftar online",
    "col.online_capacity": "Kuota online",
    "col.online_booked": "Terisi",
    "col.quoted_wait": "Tunggu",
    "col.walk_ins": "Walk-in",
    "col.turned_away": "Ditolak",
    "col.checked_in": "Hadir",
    "col.no_shows": "Tidak hadir",
    "col.pending": "Belum",
    "col.cancelled": "Batal",
    "err.report_range": "--to ({end}) tidak boleh sebelum --from ({start})",
    "err.max_wait_compare": "--max-wait tidak dapat dipakai bersama --compare",
    # -- table columns ------------------------------------------------------------------
    "col.date": "Tanggal",
    "col.reason": "Keterangan",
    "col.capacity": "Kuota",
    "col.booked": "Terisi",
    "col.remaining": "Sisa",
    "col.bookable": "Bisa dipesan",
    "col.label": "Nomor",
    "col.window": "Jam datang",
    "col.places": "Orang",
    "col.channel": "Layanan",
    "col.status": "Status",
    "col.id": "ID",
    "col.old_label": "Nomor lama",
    "col.new_label": "Nomor baru",
    "col.new_day": "Hari baru",
    "col.counter": "Kuota untuk",
    "col.new_capacity": "Kuota baru",
    "col.over": "Lebih",
    # -- configuration errors (exit status 2) ---------------------------------------------
    "err.no_office": (
        "tidak ada file kantor: berikan --office FILE atau atur variabel QUEUE_QUOTA_OFFICE"
    ),
    "err.no_database": (
        "basis data {db} tidak ada (periksa --db atau QUEUE_QUOTA_DB); "
        "perintah {command} tidak membuat basis data baru"
    ),
    "err.no_key": (
        "basis data {db} sudah ada, tetapi file kuncinya {key_file} tidak ada: atur "
        "QUEUE_QUOTA_SECRET, atau pulihkan file kunci dari cadangan (kunci baru membuat "
        "tiket yang sudah diberikan tidak valid)"
    ),
    "err.legacy_key": (
        "file kunci {old} berada di samping basis data, sehingga cadangan data juga memuat "
        "kuncinya; pindahkan file itu: mv {old} {new}"
    ),
    "err.secret_mismatch": (
        "rahasia dari {source} tidak cocok dengan basis data {db} (basis data ini dibuat "
        "dengan rahasia lain): gunakan rahasia yang benar, bukan rahasia baru"
    ),
    "err.short_secret": "QUEUE_QUOTA_SECRET harus berisi minimal {min} bita",
    "err.postgres_secret": (
        "basis data PostgreSQL memerlukan QUEUE_QUOTA_SECRET (minimal {min} bita, sama di "
        "setiap server aplikasi): tiket dan referensi warga ditandatangani dengannya"
    ),
    "err.postgres_extra": (
        "PostgreSQL memerlukan paket tambahan postgres: pip install 'queue-quota[postgres]'"
    ),
    "err.key_read": "file kunci {path} tidak dapat dibaca ({error})",
    "err.key_create": "file kunci {path} tidak dapat dibuat ({error})",
    "err.key_damaged": (
        "file kunci {path} hanya berisi {size} bita, kurang dari {min}: file itu rusak "
        "(pulihkan dari cadangan; tiket bergantung padanya)"
    ),
    "err.key_mode": ("file kunci {path} dapat dibaca pengguna lain; jalankan: chmod 600 {path}"),
    "err.no_home": (
        "folder konfigurasi pengguna tidak diketahui (HOME tidak diatur): atur "
        "XDG_CONFIG_HOME, QUEUE_QUOTA_KEY_FILE atau QUEUE_QUOTA_SECRET"
    ),
    "err.no_walk_in": (
        "kantor {office} tidak memiliki layanan walk-in; sebutkan layanannya dengan "
        "--channel (layanan: {channels})"
    ),
    "err.no_citizen": "--citizen -: tidak ada NIK yang terbaca dari masukan standar",
    "err.other_office": (
        "file {file} adalah file kantor {id}, bukan {office}: periksa file kantor baru dengan "
        "--office file kantor yang sekarang"
    ),
}

_EN: Final[dict[str, str]] = {
    "ticket.label": "Queue number",
    "ticket.channel": "Service",
    "ticket.day": "Served on",
    "ticket.window": "Arrive between",
    "ticket.places": "People",
    "ticket.ticket": "Ticket",
    "ticket.id": "Booking ID",
    "ticket.status": "Status",
    "status.booked": "booked",
    "status.checked_in": "checked in",
    "status.cancelled": "cancelled",
    "status.no_show": "no show",
    "cancelled": "Booking {label} for {day} is cancelled.",
    "cancelled.promoted": "Its place went to the waiting list: {label}, {day}.",
    "checked_in": "Checked in: {label}, {day}.",
    "moved": "Old number {old_label}, {old_day} -> new number {new_label}, {new_day}.",
    "events.none": "No new events.",
    "reopened": "The office is open again on {day}.",
    "reopened.not_closed": "{day} is not closed; nothing changed.",
    "suspension_lifted": "Suspension lifted: the citizen can register online again from today.",
    "reopened.calendar": "The office is open on {day}, which its calendar closes ({reason}).",
    "notified": "{count} notifications handled.",
    "ticket.waitlist": "Waiting list",
    "ticket.position": "Position",
    "ticket.until": "Waits until",
    "waitlist.title": "Waiting list of {channel}, {office}",
    "waitlist.none": "No one is waiting.",
    "waitlist.joined": (
        "As soon as a place is free, a booking is made with this ticket and given a queue "
        "number. Keep the ticket."
    ),
    "waitlist.left": "Entry {id} has left the waiting list of {channel}.",
    "waitlist.already_booked": (
        "This entry already got a place: queue number {label}, {day}. To give it up, cancel "
        "that booking: queue-quota cancel {id}"
    ),
    "waitlist.not_found": "No waiting list entry has this ticket or ID. Please check the ticket.",
    "waitlist.any_time": "any time",
    "waitlist.from_time": "from {time}",
    "promoted.none": "No waiting list entry got a place.",
    "promoted.one": "1 waiting list entry got a place. Notify this ticket holder:",
    "promoted.other": "{count} waiting list entries got a place. Notify these ticket holders:",
    "col.position": "Position",
    "col.until": "Until",
    "col.joined": "Joined",
    "col.day": "Day",
    "col.seq": "Seq",
    "col.at": "At",
    "col.kind": "Kind",
    "col.message": "Message",
    "err.webhook_secret": (
        "Set {env} to the webhook's secret (at least 16 bytes); it is never written on the "
        "command line."
    ),
    "closed": "The office is closed on {day} ({reason}).",
    "closed.none": "No booking had to be moved.",
    "closed.moved.one": "1 booking moved. Notify this ticket holder:",
    "closed.moved.other": "{count} bookings moved. Notify these ticket holders:",
    "no_shows.none": "No booking was marked as a no-show.",
    "preview.closed": "Preview: if the office closes on {day} ({reason}):",
    "preview.moved.one": "1 booking would be moved:",
    "preview.moved.other": "{count} bookings would be moved:",
    "preview.unchanged": "Nothing was changed (a preview): run without --dry-run to close the day.",
    "check.title": "Checking {file} against the bookings of {office} from {day}",
    "check.fits": "Every booking fits the new file's capacities.",
    "check.move.none": "No booking can be moved (those over capacity are checked in).",
    "check.move.one": "1 booking would have to move (the last numbers first):",
    "check.move.other": "{count} bookings would have to move (the last numbers first):",
    "check.unchanged": "Nothing was changed.",
    "counter.session": "{channel}, session {at}",
    "counter.pool": "pool {name}",
    "calendar.title": "Closed days of {office}, {month}",
    "calendar.none": "No closed day.",
    "calendar.openings": "Special openings: {days}",
    "availability.title": "Availability of {channel}, {office}",
    "manifest.title": "Queue of {office}, {day}",
    "manifest.none": "No bookings.",
    "bookings.none": "No active booking for this ID.",
    "bookings.none_past": "No booking for this ID.",
    "yes": "yes",
    "no": "no",
    "prompt.citizen": "Citizen ID (not shown): ",
    "warning": "warning: {message}",
    "simulate.title": "Simulation of {office}: {days} days from {start} (seed {seed})",
    "capacity.found": (
        "{capacity} places a day on {channel}: nobody waits more than {max_wait} working days "
        "({runs} simulations of the same citizens)."
    ),
    "capacity.below": (
        "With {capacity} places: longest wait {wait} working days, {gave_up} without a place."
    ),
    "capacity.none": "No capacity keeps every citizen's wait within {max_wait} working days.",
    "simulate.demand": (
        "Demand: {online} online registrations a working day, {surge} more on the first "
        "day, {walk_in} walk-ins a morning; no-shows {no_show}, cancellations {cancel}."
    ),
    "simulate.people": (
        "Online registrants: {registrants}; given a place {given}, gave up {gave_up}, still "
        "waiting {waiting}."
    ),
    "simulate.wait": (
        "Median wait {p50} working days, 9 in 10 within {p90}, max {max}; walk-ins turned "
        "away {share}."
    ),
    "simulate.no_wait": "No online registrant was given a place; walk-ins turned away {share}.",
    "simulate.use": (
        "Places used: {utilisation}; the online booking window was full on {full} of "
        "{days} working days."
    ),
    "simulate.full": "full",
    "compare.title": ("{a} and {b} on the same citizens: {days} days from {start} (seed {seed})"),
    "compare.difference": "Difference ({b} - {a})",
    "row.registrants": "Online registrants",
    "row.given": "Given a place",
    "row.gave_up": "Gave up",
    "row.wait_p50": "Median wait (working days)",
    "row.wait_p90": "9 in 10 within",
    "row.wait_max": "Longest wait",
    "row.walk_in_share": "Walk-ins turned away",
    "row.days_full": "Days the window was full",
    "plan.chart": "Chart written to {path}.",
    "report.title": "Report of {office}, {start} to {end}",
    "report.channel": (
        "{channel}: {held} of {capacity} places used ({utilisation}); no-shows {no_shows} "
        "({no_show_rate})."
    ),
    "report.turned_away": (
        "{channel}: {turned_away} people turned away because the day was full ({share})."
    ),
    "report.total": "Total",
    "col.online_demand": "Online tries",
    "col.online_capacity": "Online places",
    "col.online_booked": "Booked",
    "col.quoted_wait": "Wait",
    "col.walk_ins": "Walk-ins",
    "col.turned_away": "Turned away",
    "col.checked_in": "Checked in",
    "col.no_shows": "No-shows",
    "col.pending": "Pending",
    "col.cancelled": "Cancelled",
    "err.report_range": "--to ({end}) must not be before --from ({start})",
    "err.max_wait_compare": "--max-wait cannot be used with --compare",
    "col.date": "Date",
    "col.reason": "Closed because",
    "col.capacity": "Capacity",
    "col.booked": "Booked",
    "col.remaining": "Remaining",
    "col.bookable": "Bookable",
    "col.label": "Number",
    "col.window": "Arrive",
    "col.places": "People",
    "col.channel": "Service",
    "col.status": "Status",
    "col.id": "ID",
    "col.old_label": "Old number",
    "col.new_label": "New number",
    "col.new_day": "New day",
    "col.counter": "Counter",
    "col.new_capacity": "New capacity",
    "col.over": "Over",
    "err.no_office": "no office file: give --office FILE or set QUEUE_QUOTA_OFFICE",
    "err.no_database": (
        "the database {db} does not exist (check --db or QUEUE_QUOTA_DB); "
        "the {command} command never creates one"
    ),
    "err.no_key": (
        "the database {db} exists but its key file {key_file} does not: set QUEUE_QUOTA_SECRET, "
        "or restore the key file from a backup (a new key would make every ticket given "
        "so far invalid)"
    ),
    "err.legacy_key": (
        "the key file {old} lies beside the database, so a backup of the data is also a "
        "backup of its key; move it: mv {old} {new}"
    ),
    "err.secret_mismatch": (
        "the secret from {source} does not match the database {db} (it was made with "
        "another secret): use the right secret, not a new one"
    ),
    "err.short_secret": "QUEUE_QUOTA_SECRET must be at least {min} bytes long",
    "err.postgres_secret": (
        "a PostgreSQL database needs QUEUE_QUOTA_SECRET (at least {min} bytes, the same on "
        "every app server): tickets and citizen refs are signed with it"
    ),
    "err.postgres_extra": (
        "PostgreSQL needs the postgres extra: pip install 'queue-quota[postgres]'"
    ),
    "err.key_read": "cannot read the key file {path} ({error})",
    "err.key_create": "cannot create the key file {path} ({error})",
    "err.key_damaged": (
        "the key file {path} holds {size} bytes, fewer than {min}: it is damaged (restore "
        "it from a backup; tickets depend on it)"
    ),
    "err.key_mode": "the key file {path} can be read by other users; run: chmod 600 {path}",
    "err.no_home": (
        "no per-user configuration folder (HOME is not set): set XDG_CONFIG_HOME, "
        "QUEUE_QUOTA_KEY_FILE or QUEUE_QUOTA_SECRET"
    ),
    "err.no_walk_in": (
        "office {office} has no walk-in service; name the channel with --channel "
        "(channels: {channels})"
    ),
    "err.no_citizen": "--citizen -: no ID could be read from standard input",
    "err.other_office": (
        "{file} is the office file of {id}, not {office}: check a new office file with "
        "--office naming the current one"
    ),
}

#: language -> key -> ``str.format`` template.
CATALOGUE: Final[dict[str, dict[str, str]]] = {"id": _ID, "en": _EN}


def render(lang: str, key: str, **fields: object) -> str:
    """The phrase ``key`` in ``lang``, filled in."""
    return CATALOGUE[lang][key].format(**fields)


class CliError(ConfigurationError):
    """A configuration error found by the command line itself (exit status 2).

    Its message is English (for Python callers of `load_or_create_key`); the command line
    prints it in the run's language from ``key`` and ``fields``.
    """

    def __init__(self, key: str, /, **fields: Any) -> None:
        super().__init__(render("en", key, **fields))
        self.key = key
        self.fields = fields

    def render(self, lang: str) -> str:
        """The message in ``lang``."""
        return render(lang, self.key, **self.fields)
