//! Head counts: "peserta : 150 orang", "± 200 peserta", "kurang lebih 80 orang",
//! "jumlah peserta 300", "50 partisipan", "sekitar 1.500 peserta" (the dot groups
//! thousands in Indonesian), "40 (empat puluh) orang", "around 30 people", "25 staff".
//! Counts of units are not people: "34 satker", "10 kabupaten/kota" (each unit may send
//! several people, so the number says nothing about the license size needed).

use super::text::{Kind, Tok};

const PERSON_NOUNS: &[&str] = &[
    "peserta",
    "orang",
    "partisipan",
    "participants",
    "participant",
    "people",
    "persons",
    "person",
    "pax",
    "attendees",
    "attendee",
    "staff",
    "pegawai",
    "karyawan",
    "undangan",
    "audiens",
    "audience",
    "personel",
    "petugas",
    "guests",
    "users",
    "pengguna",
    "member",
    "members",
];
const UNIT_NOUNS: &[&str] = &[
    "satker",
    "satuan",
    "kabupaten",
    "kab",
    "kota",
    "kabkota",
    "unit",
    "tim",
    "opd",
    "instansi",
    "desa",
    "kecamatan",
    "provinsi",
    "sesi",
    "hari",
    "jam",
    "menit",
    "kali",
    "lembar",
    "halaman",
    "kantor",
    "bps",
    "lokasi",
    "titik",
    "ruang",
    "room",
    "rooms",
    "units",
    "teams",
    "sessions",
    "days",
    "hours",
    "minutes",
    "kelompok",
    "grup",
    "group",
    "groups",
    "perusahaan",
    "lembaga",
    "daerah",
    "wilayah",
];
const COUNT_LABELS: &[&str] =
    &["peserta", "participants", "partisipan", "attendees", "undangan", "audiens", "pax", "participant"];
const QUALIFIERS: &[&str] = &[
    "sekitar",
    "kurang",
    "lebih",
    "kira",
    "kira-kira",
    "around",
    "about",
    "approximately",
    "approx",
    "roughly",
    "up",
    "to",
    "maksimal",
    "maks",
    "max",
    "maximum",
    "hingga",
    "sebanyak",
    "kurleb",
    "estimasi",
    "perkiraan",
    "diperkirakan",
    "total",
    "jumlah",
    "ada",
    "adalah",
    "yaitu",
    "sejumlah",
    "of",
    "expected",
    "some",
    "nearly",
    "almost",
    "over",
    "dengan",
    "berjumlah",
];
/// The largest count read as people; beyond it the number is something else.
const MAX_COUNT: u32 = 100_000;

/// The first head count in `toks`, skipping tokens marked `taken` (dates and times).
pub fn head_count(toks: &[Tok], taken: &[bool]) -> Option<u32> {
    let mut i = 0;
    while i < toks.len() {
        if taken.get(i).copied().unwrap_or(false) {
            i += 1;
            continue;
        }
        // "@ 5 orang", "masing-masing 5 orang": a count per unit, not the total.
        let per_unit = i > 0
            && (toks[i - 1].is_punct('@')
                || toks[i - 1].is_any(&["masing", "tiap", "setiap", "per", "each", "sebanyak-banyaknya"]));
        if let Some((n, after)) = number_at(toks, i).filter(|_| !per_unit) {
            let before_label = label_before(toks, i);
            match noun_after(toks, after) {
                Some(true) => return Some(n).filter(|&n| n > 0 && n <= MAX_COUNT),
                Some(false) => {}
                None if before_label => return Some(n).filter(|&n| n > 0 && n <= MAX_COUNT),
                None => {}
            }
            i = after.max(i + 1);
            continue;
        }
        i += 1;
    }
    None
}

/// A person noun follows (`Some(true)`), a unit noun follows (`Some(false)`), or neither.
/// Skips a parenthesised spelling ("40 (empat puluh) orang").
fn noun_after(toks: &[Tok], mut j: usize) -> Option<bool> {
    if toks.get(j).is_some_and(|t| t.is_punct('(')) {
        let mut k = j + 1;
        while k < toks.len() && k < j + 8 && !toks[k].is_punct(')') {
            k += 1;
        }
        if toks.get(k).is_some_and(|t| t.is_punct(')')) {
            j = k + 1;
        }
    }
    let t = toks.get(j)?;
    if t.kind != Kind::Word {
        return None;
    }
    if t.is_any(PERSON_NOUNS) {
        return Some(true);
    }
    if t.is_any(UNIT_NOUNS) {
        return Some(false);
    }
    None
}

/// "Peserta : ± 150", "jumlah peserta 300", "Participants: around 30".
fn label_before(toks: &[Tok], i: usize) -> bool {
    let mut k = i;
    let mut steps = 0;
    while k > 0 && steps < 6 {
        k -= 1;
        let t = &toks[k];
        if t.kind == Kind::Newline {
            return false;
        }
        if t.is_any(COUNT_LABELS) {
            return true;
        }
        if t.kind == Kind::Word && !t.is_any(QUALIFIERS) {
            return false;
        }
        if t.kind == Kind::Num {
            return false;
        }
        steps += 1;
    }
    false
}

/// A count at `i`: digits with thousands dots or commas ("1.500", "1,500"), or number
/// words ("empat puluh", "fifty").
fn number_at(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    let t = toks.get(i)?;
    if t.kind == Kind::Num {
        if i > 0
            && !t.spaced
            && !toks[i - 1].is_punct('(')
            && !toks[i - 1].is_punct('\u{b1}')
            && !toks[i - 1].is_punct('~')
            && !toks[i - 1].is_punct(':')
        {
            return None; // inside a phone number, a letter number, a code
        }
        // Phone and ID numbers start with 0 or run long.
        if t.text.len() > 1 && t.text.starts_with('0') || t.text.len() > 6 {
            return None;
        }
        let mut n: u64 = t.text.parse().ok()?;
        let mut j = i + 1;
        while let (Some(sep), Some(g)) = (toks.get(j), toks.get(j + 1)) {
            if !sep.spaced
                && !g.spaced
                && (sep.is_punct('.') || sep.is_punct(','))
                && g.kind == Kind::Num
                && g.text.len() == 3
                && t.text.len() <= 3
            {
                n = n * 1000 + g.text.parse::<u64>().ok()?;
                j += 2;
            } else {
                break;
            }
        }
        // "1.5" or "2,5" is not a count of people.
        if toks.get(j).is_some_and(|s| {
            !s.spaced
                && (s.is_punct('.') || s.is_punct(','))
                && toks.get(j + 1).is_some_and(|g| g.kind == Kind::Num && !g.spaced)
        }) {
            return None;
        }
        return u32::try_from(n).ok().map(|n| (n, j));
    }
    number_words(toks, i)
}

fn unit_word(w: &str) -> Option<u64> {
    Some(match w {
        "satu" | "one" => 1,
        "dua" | "two" => 2,
        "tiga" | "three" => 3,
        "empat" | "four" => 4,
        "lima" | "five" => 5,
        "enam" | "six" => 6,
        "tujuh" | "seven" => 7,
        "delapan" | "eight" => 8,
        "sembilan" | "nine" => 9,
        "sepuluh" | "ten" => 10,
        "sebelas" | "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// "empat puluh", "seratus lima puluh", "dua ribu", "one hundred and twenty", "fifty".
fn number_words(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut j = i;
    let mut any = false;
    while let Some(t) = toks.get(j) {
        if t.kind == Kind::Punct && t.is_punct('-') && any {
            j += 1;
            continue;
        }
        if t.kind != Kind::Word {
            break;
        }
        let w = t.lower;
        if let Some(v) = unit_word(w) {
            current += v;
        } else if w == "seratus" {
            current += 100;
        } else if w == "seribu" {
            total += (current + 1) * 1000;
            current = 0;
        } else if w == "belas" && any {
            current += 10;
        } else if w == "puluh" && any {
            current = (current % 10) * 10 + (current - current % 10);
        } else if (w == "ratus" || w == "hundred") && any {
            current = (current % 100) * 100 + (current - current % 100);
        } else if (w == "ribu" || w == "thousand") && any {
            total += current * 1000;
            current = 0;
        } else if w == "and" && any {
            // "one hundred and twenty"
        } else {
            break;
        }
        any = true;
        j += 1;
    }
    let n = total + current;
    if !any || n == 0 {
        return None;
    }
    u32::try_from(n).ok().map(|n| (n, j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parse::text::tokenize;

    fn count(s: &str) -> Option<u32> {
        let lower = s.to_ascii_lowercase();
        let t = tokenize(s, &lower);
        head_count(&t.toks, &[])
    }

    #[test]
    fn head_counts_read_as_people() {
        for (text, want) in [
            ("peserta      : 150 orang", Some(150)),
            ("peserta      : \u{b1} 200 peserta", Some(200)),
            ("peserta      : kurang lebih 80 orang", Some(80)),
            ("jumlah peserta 300", Some(300)),
            ("Kegiatan ini untuk 50 partisipan.", Some(50)),
            ("sekitar 1.500 peserta", Some(1500)),
            ("peserta : \u{b1} 1.000 orang", Some(1000)),
            ("We expect 45 participants.", Some(45)),
            ("Participants: around 30 people", Some(30)),
            ("About 25 staff will join each day.", Some(25)),
            ("peserta      : 40 (empat puluh) orang", Some(40)),
            ("Peserta: empat puluh orang", Some(40)),
            ("dihadiri seratus lima puluh peserta", Some(150)),
            ("fifty participants", Some(50)),
            ("Peserta 45 orang petugas.", Some(45)),
            ("(peserta 9 orang)", Some(9)),
            ("Jumlah Peserta: 60 orang", Some(60)),
            ("peserta 1,200 people", Some(1200)),
            ("dua belas orang", Some(12)),
        ] {
            assert_eq!(count(text), want, "{text}");
        }
    }

    #[test]
    fn units_phones_and_ids_are_not_people() {
        for text in [
            "Peserta      : 34 satker",
            "diikuti 10 kabupaten/kota",
            "Telp. 0812-2640-3012",
            "NIP. 19730305 200102 1 007",
            "Nomor B-024/17000/VS.100/01/2026",
            "HP +62 813 2780 9351",
            "Ruang Rapat Lantai 2",
            "selama 3 jam",
            "Meeting ID: 812 3456 7890",
            "10 kab/kota @ 5 orang",
            "34 satker, masing-masing 2 orang",
        ] {
            assert_eq!(count(text), None, "{text}");
        }
    }
}
