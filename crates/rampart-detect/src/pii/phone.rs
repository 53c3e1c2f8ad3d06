//! Telephone number plausibility: country calling codes with the lengths of their national numbers, and
//! the written national formats of the countries Rampart's users most often write in.

/// A country calling code with the shortest and longest national significant number it uses.
struct CallingCode {
    code: u16,
    min: u8,
    max: u8,
    country: &'static str,
}

const fn cc(code: u16, min: u8, max: u8, country: &'static str) -> CallingCode {
    CallingCode {
        code,
        min,
        max,
        country,
    }
}

// ITU-T E.164 assignments (codes are prefix-free, so the first length that matches is the code). Lengths
// are those of national significant numbers in each national numbering plan.
static CALLING_CODES: &[CallingCode] = &[
    cc(1, 10, 10, "North American"),
    cc(7, 10, 10, "Russian/Kazakh"),
    cc(20, 9, 10, "Egyptian"),
    cc(27, 9, 9, "South African"),
    cc(30, 10, 10, "Greek"),
    cc(31, 9, 9, "Dutch"),
    cc(32, 8, 9, "Belgian"),
    cc(33, 9, 9, "French"),
    cc(34, 9, 9, "Spanish"),
    cc(36, 8, 9, "Hungarian"),
    cc(39, 6, 11, "Italian"),
    cc(40, 9, 9, "Romanian"),
    cc(41, 9, 9, "Swiss"),
    cc(43, 7, 13, "Austrian"),
    cc(44, 9, 10, "UK"),
    cc(45, 8, 8, "Danish"),
    cc(46, 7, 10, "Swedish"),
    cc(47, 8, 8, "Norwegian"),
    cc(48, 9, 9, "Polish"),
    cc(49, 6, 13, "German"),
    cc(51, 8, 9, "Peruvian"),
    cc(52, 10, 10, "Mexican"),
    cc(54, 10, 11, "Argentinian"),
    cc(55, 10, 11, "Brazilian"),
    cc(56, 9, 9, "Chilean"),
    cc(57, 10, 10, "Colombian"),
    cc(58, 10, 10, "Venezuelan"),
    cc(60, 8, 10, "Malaysian"),
    cc(61, 9, 9, "Australian"),
    cc(62, 8, 12, "Indonesian"),
    cc(63, 8, 10, "Philippine"),
    cc(64, 8, 10, "New Zealand"),
    cc(65, 8, 8, "Singaporean"),
    cc(66, 8, 9, "Thai"),
    cc(81, 9, 10, "Japanese"),
    cc(82, 8, 10, "South Korean"),
    cc(84, 9, 10, "Vietnamese"),
    cc(86, 10, 11, "Chinese"),
    cc(90, 10, 10, "Turkish"),
    cc(91, 10, 10, "Indian"),
    cc(92, 9, 10, "Pakistani"),
    cc(212, 9, 9, "Moroccan"),
    cc(234, 8, 10, "Nigerian"),
    cc(254, 9, 9, "Kenyan"),
    cc(351, 9, 9, "Portuguese"),
    cc(352, 6, 11, "Luxembourgish"),
    cc(353, 7, 9, "Irish"),
    cc(354, 7, 9, "Icelandic"),
    cc(356, 8, 8, "Maltese"),
    cc(357, 8, 8, "Cypriot"),
    cc(358, 6, 10, "Finnish"),
    cc(359, 8, 9, "Bulgarian"),
    cc(370, 8, 8, "Lithuanian"),
    cc(371, 8, 8, "Latvian"),
    cc(372, 7, 8, "Estonian"),
    cc(380, 9, 9, "Ukrainian"),
    cc(385, 8, 9, "Croatian"),
    cc(386, 8, 8, "Slovenian"),
    cc(420, 9, 9, "Czech"),
    cc(421, 9, 9, "Slovak"),
    cc(852, 8, 8, "Hong Kong"),
    cc(880, 10, 10, "Bangladeshi"),
    cc(886, 8, 9, "Taiwanese"),
    cc(966, 9, 9, "Saudi"),
    cc(971, 8, 9, "Emirati"),
    cc(972, 8, 9, "Israeli"),
    cc(974, 8, 8, "Qatari"),
];

/// What an international number turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum International {
    /// Known calling code and a national number of a length that country uses.
    Valid { country: &'static str, code: u16 },
    /// Known calling code, wrong national length.
    BadLength,
    /// A calling code missing from the table; only the overall E.164 length could be checked.
    UnknownCode,
}

/// Checks `digits` (everything after `+` or `00`, national trunk `(0)` already removed).
pub fn international(digits: &[u8]) -> International {
    for len in 1..=3 {
        let Some(prefix) = digits.get(..len) else {
            break;
        };
        let code = prefix
            .iter()
            .fold(0u16, |a, &b| a * 10 + u16::from(b.wrapping_sub(b'0') % 10));
        if let Some(c) = CALLING_CODES.iter().find(|c| c.code == code) {
            let nsn = &digits[len..];
            let ok_len = (usize::from(c.min)..=usize::from(c.max)).contains(&nsn.len());
            // North American numbers: neither area code nor exchange starts with 0 or 1.
            let nanp_ok = code != 1 || (nsn.first() >= Some(&b'2') && nsn.get(3) >= Some(&b'2'));
            return if ok_len && nanp_ok {
                International::Valid {
                    country: c.country,
                    code,
                }
            } else {
                International::BadLength
            };
        }
    }
    if (8..=15).contains(&digits.len()) {
        International::UnknownCode
    } else {
        International::BadLength
    }
}

/// Written form of a national number: its digits and how they were grouped.
pub struct Shape<'a> {
    /// All digits, trunk prefix included.
    pub digits: &'a [u8],
    /// Digit count of each group, in order.
    pub groups: &'a [u8],
}

/// Countries whose written national format fits `s`, as a `/`-separated adjective list, or `None`.
///
/// Only grouped numbers are considered here: a bare run of digits is a phone number only when the words
/// around it say so, which the caller decides.
pub fn national(s: &Shape<'_>) -> Option<&'static str> {
    let d = s.digits;
    let g = s.groups;
    let n = d.len();
    if g.len() < 2 || n < 6 {
        return None;
    }
    let first = d[0];
    let second = d.get(1).copied().unwrap_or(b'0');
    // North American: (NXX) NXX-XXXX or 1-NXX-NXX-XXXX.
    let nanp_at = |off: usize| d.get(off) >= Some(&b'2') && d.get(off + 3) >= Some(&b'2');
    if (n == 10 && g == [3, 3, 4] && nanp_at(0))
        || (n == 11 && first == b'1' && g == [1, 3, 3, 4] && nanp_at(1))
    {
        return Some("US");
    }
    if n == 10 && first == b'0' && second != b'0' && g == [2, 2, 2, 2, 2] {
        return Some("French");
    }
    if n == 9
        && (b'6'..=b'9').contains(&first)
        && matches!(g, [3, 3, 3] | [3, 2, 2, 2] | [2, 3, 2, 2])
    {
        return Some("Spanish");
    }
    if n == 10 && (b'6'..=b'9').contains(&first) && g == [5, 5] {
        return Some("Indian");
    }
    if (9..=10).contains(&n) && first == b'3' && g[0] == 3 && g.len() <= 3 {
        return Some("Italian mobile");
    }
    if first != b'0' || second == b'0' {
        return None;
    }
    let area = usize::from(g[0]);
    let uk = (10..=11).contains(&n)
        && matches!(second, b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9')
        && (3..=6).contains(&area)
        && g.len() <= 3;
    let de = (7..=13).contains(&n) && (3..=6).contains(&area) && g.len() <= 4;
    let it = (6..=11).contains(&n) && (2..=4).contains(&area) && g.len() <= 3;
    let ind = n == 11 && (3..=5).contains(&area) && g.len() == 2;
    let label = match (uk, de, it, ind) {
        (true, true, true, _) => "UK/German/Italian",
        (true, true, false, true) => "UK/German/Indian",
        (true, true, false, false) => "UK/German",
        (true, false, _, _) => "UK",
        (false, true, true, _) => "German/Italian",
        (false, true, false, true) => "German/Indian",
        (false, true, false, false) => "German",
        (false, false, true, _) => "Italian",
        (false, false, false, true) => "Indian",
        (false, false, false, false) => return None,
    };
    Some(label)
}

/// Countries whose national numbers have this many digits when written without separators.
pub fn compact(d: &[u8]) -> Option<&'static str> {
    let n = d.len();
    let first = *d.first()?;
    match n {
        10 if first >= b'2' && d.get(3) >= Some(&b'2') && first != b'0' => Some("US"),
        10 if (b'6'..=b'9').contains(&first) => Some("Indian"),
        9 if (b'6'..=b'9').contains(&first) => Some("Spanish"),
        9..=12 if first == b'0' && d.get(1) != Some(&b'0') => Some("national"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape<'a>(d: &'a [u8], g: &'a [u8]) -> Shape<'a> {
        Shape {
            digits: d,
            groups: g,
        }
    }

    #[test]
    fn international_lengths() {
        assert_eq!(
            international(b"14155552671"),
            International::Valid {
                country: "North American",
                code: 1
            }
        );
        assert_eq!(
            international(b"442079460958"),
            International::Valid {
                country: "UK",
                code: 44
            }
        );
        assert_eq!(
            international(b"33123456789"),
            International::Valid {
                country: "French",
                code: 33
            }
        );
        assert_eq!(
            international(b"919876543210"),
            International::Valid {
                country: "Indian",
                code: 91
            }
        );
        assert_eq!(
            international(b"4930123456"),
            International::Valid {
                country: "German",
                code: 49
            }
        );
        assert_eq!(international(b"3312345678"), International::BadLength);
        assert_eq!(international(b"10155552671"), International::BadLength);
        assert_eq!(international(b"99912345678"), International::UnknownCode);
    }

    #[test]
    fn national_formats() {
        assert_eq!(national(&shape(b"4155552671", &[3, 3, 4])), Some("US"));
        assert_eq!(
            national(&shape(b"0612345678", &[2, 2, 2, 2, 2])),
            Some("French")
        );
        assert_eq!(national(&shape(b"612345678", &[3, 3, 3])), Some("Spanish"));
        assert_eq!(national(&shape(b"9876543210", &[5, 5])), Some("Indian"));
        assert_eq!(
            national(&shape(b"3451234567", &[3, 3, 4])),
            Some("Italian mobile")
        );
        assert_eq!(
            national(&shape(b"02079460958", &[3, 4, 4])),
            Some("UK/German/Italian")
        );
        assert_eq!(
            national(&shape(b"0891234567", &[3, 7])),
            Some("UK/German/Italian")
        );
        assert_eq!(national(&shape(b"015112345678", &[4, 8])), Some("German"));
        assert_eq!(national(&shape(b"20192020", &[4, 4])), None);
        assert_eq!(national(&shape(b"123456789", &[5, 4])), None);
        assert_eq!(national(&shape(b"4155552671", &[10])), None);
    }
}
